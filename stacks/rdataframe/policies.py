"""Static policies of the rdataframe stack.

>>> import ast
>>> code = "import ROOT\\nc = ROOT.TCanvas()\\nc.SaveAs('a.png')"
>>> batch_mode(code, ast.parse(code))
['Start with ROOT.gROOT.SetBatch(True): there is no display.']
"""

from __future__ import annotations

import ast
import re

from vibeplot.core.policies import _calls
from vibeplot.core.servicex.policies import nfiles_is_one

_GUI = re.compile(r"\b(TBrowser|TApplication|gApplication|TGMainFrame|TEveManager)\b")


def batch_mode(code: str, tree: ast.Module) -> list[str]:
    for name, call in _calls(tree):
        if name.endswith("SetBatch") and (not call.args or ast.unparse(call.args[0]) in {"True", "1", "kTRUE"}):
            return []
    return ["Start with ROOT.gROOT.SetBatch(True): there is no display."]


def saves_png(code: str, tree: ast.Module) -> list[str]:
    for name, call in _calls(tree):
        if name.split(".")[-1] in {"SaveAs", "Print", "savefig"} and call.args:
            first = call.args[0]
            if not isinstance(first, ast.Constant) or str(first.value).lower().endswith(".png"):
                return []
    return ['Save each canvas as a PNG in the current directory: canvas.SaveAs("name.png").']


def no_gui(code: str, tree: ast.Module) -> list[str]:
    found = sorted(set(_GUI.findall(code)))
    if found:
        return [f"Do not use {', '.join(found)}: the script runs without a display; save PNGs instead."]
    return []


def nfiles_when_servicex(code: str, tree: ast.Module) -> list[str]:
    """``NFiles=1`` on every Sample, when the script uses ServiceX at all."""
    uses_servicex = any(name.split(".")[-1] in {"Sample", "deliver"} for name, _ in _calls(tree))
    return nfiles_is_one(code, tree) if uses_servicex else []


POLICIES = [batch_mode, saves_png, no_gui, nfiles_when_servicex]
