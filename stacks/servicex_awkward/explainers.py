"""Error explainers for the servicex_awkward stack."""

from __future__ import annotations

import re

from vibeplot.core.stack import Failure
from vibeplot.stacks.uproot_opendata.explainers import advise as awkward_advice

_EMPTY = re.compile(r"(?:ServiceX|Delivered) result (?:file )?path list for (\S+) (?:cannot be|is) empty")
_TRANSFORM_ERROR = re.compile(r"^.*\btransform (?:failed|error)\b.*?:\s*(?P<msg>.+)$", re.I | re.M)
# the client quotes the request title, where the backend puts the transformer's message
_CLIENT_ERROR = re.compile(r'for request "[^"(]*\(error: (?P<msg>.+?)\)"')


def advise(failure: Failure) -> list[str]:
    advice = []
    text = failure.stderr + failure.stdout
    if (m := _EMPTY.search(text)):
        advice.append(f"No files were delivered for sample {m[1].strip('.')}: the dataset name is probably wrong "
                      "(check it against the dataset section), or the transform failed for every file.")
    messages = [m["msg"] for m in _CLIENT_ERROR.finditer(text)]
    for log in failure.logs.values():
        messages += [m["msg"] for m in _TRANSFORM_ERROR.finditer(log)]
    for message in messages:
        line = f"The ServiceX transform failed: {message.strip()}"
        if line not in advice:
            advice.append(line)
    if re.search(r"Transform .* completed with failures", text):
        advice.append("ServiceX could not transform some files, so the result is incomplete: read the "
                      "transformer's message and fix the query or the file list.")
    return advice + awkward_advice(failure)


EXPLAINERS = [advise]
