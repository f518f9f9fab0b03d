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


# func_adl 3.5 writes "Method NAME not found on object TYPE", TYPE being the repr of a type:
# "<class 'pkg.xAOD.jet_v1.Jet_v1'>" (one object), "<class 'float'>" (a number),
# "pkg.func_adl_iterable.FADLStream[pkg.xAOD.jet_v1.Jet_v1]" (a whole collection) or
# "typing.Iterable[float]" (a sequence of values); func_adl_xAOD then writes "assuming that the
# method 'CPPTYPE::NAME(...)' has return type 'double'" for the same call.
_NOT_FOUND = re.compile(r"Method (\w+) not found on object (.+?)\s*$")
_ASSUMED = re.compile(r"assuming that the method '(.+)::(\w+)\(\.\.\.\)' has return type")
_SEQUENCE = re.compile(r"^(?:[\w.]*\.)?(?:FADLStream|Iterable|Sequence|List)\[(.+)\]$")
_CLASS = re.compile(r"^<class '(.+)'>$")
#: measured with servicex_local's translator: .Max/.Min/.Sum of a sequence become a loop whose
#: accumulator starts at 0 -- right for Sum, right for Max of values >= 0, always 0 for Min of
#: positive values
_AGGREGATES = {"Sum", "Max"}


def _short(type_text: str) -> str:
    """'pkg.xAOD.jet_v1.Jet_v1' -> 'Jet_v1'; 'float' -> 'float'."""
    return type_text.strip().rsplit(".", 1)[-1]


def describe_not_found(method: str, type_text: str) -> str | None:
    """The advice for func_adl's "Method METHOD not found on object TYPE" (None: not a problem).

    >>> describe_not_found("ptt", "<class 'func_adl_servicex_xaodr25.xAOD.jet_v1.Jet_v1'>")
    'Method ptt does not exist on Jet_v1 (checked offline against the R25 xAOD types).'
    >>> describe_not_found("pt", "func_adl_servicex_xaodr25.func_adl_iterable.FADLStream[func_adl_servicex_xaodr25.xAOD.jet_v1.Jet_v1]")
    '`pt` was called on a stream of `Jet_v1` (a whole collection), not on one object: call it per object, inside `.Select(lambda x: x.pt())`.'
    >>> describe_not_found("Max", "typing.Iterable[float]") is None
    True
    """
    type_text = type_text.strip()
    if (seq := _SEQUENCE.match(type_text)):
        inner = _CLASS.sub(r"\1", seq[1].strip())
        item = _short(inner)
        if item in ("float", "int", "bool", "double"):
            if method in _AGGREGATES:
                return None
            if method == "Min":
                return ("`.Min()` of a sequence translates to a loop whose running minimum starts at 0, so it "
                        "returns 0 for positive values: deliver the values and take the minimum afterwards.")
            return (f"`{method}` was called on a sequence of `{item}` values, which has no such method: "
                    "apply it to each value inside `.Select(...)`, or deliver the values and compute it afterwards.")
        return (f"`{method}` was called on a stream of `{item}` (a whole collection), not on one object: "
                f"call it per object, inside `.Select(lambda x: x.{method}())`.")
    if (cls := _CLASS.match(type_text)):
        name = _short(cls[1])
        if "." not in cls[1]:  # a Python number or string
            return f"`{method}` was called on a `{name}` value, which has no methods in a query."
        return f"Method {method} does not exist on {name} (checked offline against the R25 xAOD types)."
    return f"Method {method} does not exist on {type_text}."


class _Collect(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if (m := _NOT_FOUND.search(text)):
            _seen.add(m[1])  # its C++ twin ("assuming that the method '...::NAME(...)'") is not repeated
            message = describe_not_found(m[1], m[2])
        elif (m := _ASSUMED.search(text)):
            if m[2] in _seen:
                return
            message = f"The C++ translation does not know {m[1]}::{m[2]}: check the method name."
        else:
            return
        if message is not None and message not in _problems:
            _problems.append(message)


_seen: set[str] = set()

#: func_adl_servicex_xaodr25 logs this (on the root logger) when a collection is called where the
#: query's own calibration configuration is not known -- inside an inner lambda -- and uses PHYS's
#: container names, which a PHYSLITE file does not have
_FALLBACK = "Fetched the default calibration configuration for a query"
_INNER_COLLECTION = ("A collection (e.g. e.Jets()) is called inside an inner lambda, where the query no longer "
                     "knows it reads PHYSLITE: it falls back to PHYS calibration and container names. Call every "
                     "collection in the first Select (`.Select(lambda e: {\"jets\": e.Jets(), ...})`) and use "
                     "those fields in later lambdas.")
_fell_back: list[bool] = []


class _Fallback(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith(_FALLBACK):
            _fell_back.append(True)


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
        if _fell_back and type(query).__name__ == "FuncADLQueryPHYSLITE" and _INNER_COLLECTION not in _problems:
            _problems.append(_INNER_COLLECTION)
        if _codegen_name(sample) in XAOD_CODEGENS or "xaod" in type(query).__module__.lower():
            from servicex_local.codegen import LocalXAODCodegen

            with tempfile.TemporaryDirectory() as tmp:
                try:
                    LocalXAODCodegen().gen_code(qastle, Path(tmp))
                except Exception as err:  # the translator's own words are the advice
                    _problems.append(f"Sample {sample.Name}: the xAOD query does not translate to C++: {err}")
            checked.append(sample.Name)
    _finish(checked)


def _finish(checked: list[str], crash: str | None = None) -> None:
    with open(REPORT, "w", encoding="utf-8") as out:
        json.dump({"checked": checked, "problems": _problems, "crash": crash}, out)
    sys.stdout.flush()
    os._exit(0 if crash is None else 1)


def _crashed(kind, value, tb) -> None:
    """The script failed before ``deliver``: keep what func_adl said up to then, with the error."""
    import traceback

    sys.__excepthook__(kind, value, tb)
    _finish([], "".join(traceback.format_exception_only(kind, value)).strip())


if REPORT:
    sys.excepthook = _crashed
    logging.getLogger("func_adl").addHandler(_Collect(level=logging.WARNING))
    logging.getLogger("func_adl_xAOD").addHandler(_Collect(level=logging.WARNING))
    logging.getLogger().addHandler(_Fallback(level=logging.WARNING))
    import servicex
    import servicex.servicex_client

    servicex.deliver = servicex.servicex_client.deliver = _fake_deliver
