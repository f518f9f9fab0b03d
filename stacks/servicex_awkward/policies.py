"""Static policies of the servicex_awkward stack (on top of the basic ones and
:func:`vibeplot.core.servicex.policies.nfiles_is_one`).

>>> import ast
>>> code = "files = deliver(spec)"
>>> reads_with_to_awk(code, ast.parse(code))
['Read the delivered files with to_awk from servicex_analysis_utils (one awkward array per sample).']
"""

from __future__ import annotations

import ast

from vibeplot.core.policies import _calls
from vibeplot.core.servicex.policies import nfiles_is_one


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
