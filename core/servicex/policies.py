"""Static policies shared by the ServiceX stacks.

>>> import ast
>>> code = "Sample(Name='x', Dataset=d, Query=q)"
>>> nfiles_is_one(code, ast.parse(code))
['Every Sample must have NFiles=1 (Sample x has none).']
"""

from __future__ import annotations

import ast

from vibeplot.core.policies import _calls


def _keyword(call: ast.Call, name: str):
    return next((k.value for k in call.keywords if k.arg == name), None)


def nfiles_is_one(code: str, tree: ast.Module) -> list[str]:
    """Every ``Sample(...)`` has ``NFiles=1``."""
    problems = []
    samples = [c for name, c in _calls(tree) if name.split(".")[-1] == "Sample"]
    if not samples:
        return ["Fetch the data with ServiceX: deliver(ServiceXSpec(Sample=[Sample(..., NFiles=1, ...)]))."]
    for call in samples:
        nfiles = _keyword(call, "NFiles")
        label = _keyword(call, "Name")
        label = label.value if isinstance(label, ast.Constant) else "?"
        if nfiles is None:
            problems.append(f"Every Sample must have NFiles=1 (Sample {label} has none).")
        elif not (isinstance(nfiles, ast.Constant) and nfiles.value == 1):
            problems.append(f"Use NFiles=1 (Sample {label} asks for {ast.unparse(nfiles)}).")
    return problems
