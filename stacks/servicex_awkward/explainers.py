"""Error explainers for the servicex_awkward stack."""

from __future__ import annotations

import re

from vibeplot.core.stack import Failure
from vibeplot.stacks.uproot_opendata.explainers import advise as awkward_advice

_EMPTY = re.compile(r"(?:ServiceX|Delivered) result (?:file )?path list for (\S+) (?:cannot be|is) empty")
_TRANSFORM_ERROR = re.compile(r"^.*\btransform (?:failed|error)\b.*?:\s*(?P<msg>.+)$", re.I | re.M)


def advise(failure: Failure) -> list[str]:
    advice = []
    text = failure.stderr + failure.stdout
    if (m := _EMPTY.search(text)):
        advice.append(f"No files were delivered for sample {m[1].strip('.')}: the dataset name is probably wrong "
                      "(check it against the dataset section), or the transform failed for every file.")
    for name, log in failure.logs.items():
        for m in _TRANSFORM_ERROR.finditer(log):
            line = f"The ServiceX transform failed: {m['msg'].strip()}"
            if line not in advice:
                advice.append(line)
    if re.search(r"cannot be used .*Transform.*failed|Transform .* completed with failures", text):
        advice.append("The ServiceX transform failed on the server side: the query asks for a column or "
                      "method the files do not have.")
    return advice + awkward_advice(failure)


EXPLAINERS = [advise]
