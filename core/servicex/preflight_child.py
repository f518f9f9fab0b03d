"""Sandbox hook for the pre-flight dry run of ServiceX scripts (:mod:`.preflight`).

It runs inside the sandboxed script, like :mod:`vibeplot.core.sandbox.child`, and
imports nothing else of vibeplot.  Imported before the generated script when
``VIBEPLOT_PREFLIGHT_REPORT`` is set: it records func_adl's "Method X not found" warnings, replaces
``servicex.deliver`` with a stand-in that translates each ATLAS xAOD FuncADL
query to C++ offline (the code generator ServiceX would run), writes what it
found to the report file as JSON, and stops the script before anything is
sent anywhere.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import tempfile
from pathlib import Path

REPORT = os.environ.get("VIBEPLOT_PREFLIGHT_REPORT")
XAOD_CODEGENS = {"atlasr25", "atlasr22", "atlasr21", "atlasxaod"}

_problems: list[str] = []


class _Collect(logging.Handler):
    _not_found = re.compile(r"Method (\w+) not found on object <class '[\w.]*\.(\w+)'>")
    _assumed = re.compile(r"assuming that the method '([\w:]+)\(\.\.\.\)' has return type")

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if (m := self._not_found.search(text)):
            message = f"Method {m[1]} does not exist on {m[2]} (checked offline against the R25 xAOD types)."
        elif (m := self._assumed.search(text)):
            message = f"The C++ translation does not know {m[1]}: check the method name."
        else:
            return
        if message not in _problems:
            _problems.append(message)


def _codegen_name(sample) -> str:
    q = sample.Query
    for attr in ("codegen", "default_codegen"):
        value = getattr(q, attr, None)
        if isinstance(value, str):
            return value
    return sample.Codegen or ""


def _fake_deliver(spec, *args, **kwargs):
    from servicex import ServiceXSpec

    if isinstance(spec, dict):
        spec = ServiceXSpec(**spec)
    checked = []
    for sample in spec.Sample:
        if sample.NFiles != 1:
            _problems.append(f"Sample {sample.Name}: use NFiles=1.")
        query = sample.Query
        if query is None or isinstance(query, str):
            continue
        qastle = query.generate_selection_string()
        if _codegen_name(sample) in XAOD_CODEGENS or "xaod" in type(query).__module__.lower():
            from servicex_local.codegen import LocalXAODCodegen

            with tempfile.TemporaryDirectory() as tmp:
                try:
                    LocalXAODCodegen().gen_code(qastle, Path(tmp))
                except Exception as err:  # the translator's own words are the advice
                    _problems.append(f"Sample {sample.Name}: the xAOD query does not translate to C++: {err}")
            checked.append(sample.Name)
    _finish(checked)


def _finish(checked: list[str]) -> None:
    with open(REPORT, "w", encoding="utf-8") as out:
        json.dump({"checked": checked, "problems": _problems}, out)
    sys.stdout.flush()
    os._exit(0)


if REPORT:
    logging.getLogger("func_adl").addHandler(_Collect(level=logging.WARNING))
    logging.getLogger("func_adl_xAOD").addHandler(_Collect(level=logging.WARNING))
    import servicex
    import servicex.servicex_client

    servicex.deliver = servicex.servicex_client.deliver = _fake_deliver
