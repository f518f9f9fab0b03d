"""Pre-flight for ATLAS xAOD (PHYSLITE) queries, before anything is sent to ServiceX.

A misspelt method in a FuncADL xAOD query is only logged by func_adl and the
query is still sent; ServiceX then fails minutes later.  The pre-flight runs
the script once in the sandbox with ``servicex.deliver`` replaced (see
:mod:`.preflight_child`, which runs inside the sandboxed script): the query is built and translated to C++ offline
(``servicex_local``'s xAOD code generator, well under a second), and every
unknown method or collection becomes a policy error fed back to the model.

:func:`xaod_preflight` is a policy; every stack that sends xAOD queries lists it.

>>> xaod_preflight("print('no xAOD query here')", None)
[]
"""

from __future__ import annotations

import ast
import functools
import json
import re
import sys
import tempfile
from pathlib import Path

from vibeplot.core.errors import missing_modules
from vibeplot.core.sandbox import run as sandbox

_XAOD_QUERY = re.compile(r"FuncADLQueryPHYS(LITE)?\b|FuncADL_ATLAS(r2[1-5]|xAOD)\b")


@functools.cache
def _skipped_once() -> None:
    print("Warning: xAOD queries are sent unchecked (the pre-flight needs the 'xaod-preflight' extra: "
          "pip install 'vibeplot[xaod-preflight]')", file=sys.stderr)


def xaod_preflight(code: str, tree: ast.Module, *, timeout: float = 120.0) -> list[str]:
    """Policy: problems found by building and translating the script's xAOD queries offline."""
    if not _XAOD_QUERY.search(code):
        return []
    if missing_modules("servicex_local"):
        _skipped_once()
        return []
    with tempfile.TemporaryDirectory(prefix="vibeplot-preflight-") as tmp:
        work = Path(tmp)
        script = work / "script.py"
        script.write_text(code, encoding="utf-8")
        report = work / "preflight.json"
        sandbox.run_script(
            script, workdir=work, limits=sandbox.Limits(timeout=timeout),
            extra_env={"VIBEPLOT_PREFLIGHT_REPORT": str(report)},
            startup=["vibeplot.core.servicex.preflight_child"],
        )
        data = sandbox.read_safely(report, 2**20)  # written by the hook, so also by the script: no links
        if data is None:
            return []  # the script failed before deliver: the real run will show why
        try:
            problems = [str(p) for p in json.loads(data)["problems"]]
        except (ValueError, KeyError, TypeError):
            return []
    return [f"Pre-flight: {p}" for p in problems]
