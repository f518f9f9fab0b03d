"""Static policies of the servicex_awkward stack (on top of the basic ones).

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


def reads_with_to_awk(code: str, tree: ast.Module) -> list[str]:
    """Delivered files are read with ``servicex_analysis_utils.to_awk``."""
    if any(name.split(".")[-1] == "to_awk" for name, _ in _calls(tree)):
        return []
    return ["Read the delivered files with to_awk from servicex_analysis_utils (one awkward array per sample)."]


def no_nested_dicts_in_select(code: str, tree: ast.Module) -> list[str]:
    """A FuncADL ``Select`` returns one flat dictionary of columns."""
    for name, call in _calls(tree):
        if not name.endswith(".Select") or not call.args or not isinstance(call.args[0], ast.Lambda):
            continue
        body = call.args[0].body
        if isinstance(body, ast.Dict) and any(isinstance(n, ast.Dict) for v in body.values for n in ast.walk(v)):
            return ["A FuncADL Select must return one flat dictionary of columns: no dictionary inside it "
                    "(ServiceX cannot return nested records). Return each quantity as its own column."]
    return []


POLICIES = [nfiles_is_one, reads_with_to_awk, no_nested_dicts_in_select]
