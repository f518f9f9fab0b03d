"""Error advice shared by the ServiceX stacks: empty deliveries and failed transforms.

Reads the client's messages (stdout, stderr) and the local backend's log
(``Failure.logs``).  Stacks list :func:`advise` among their explainers, next to
the advice for what they do with the delivered files.

>>> from vibeplot.core.stack import Failure
>>> advise(Failure(code="", stdout="", returncode=1,
...                stderr="ServiceX result path list for adl cannot be empty"))[0][:40]
'No files were delivered for sample adl: '
"""

from __future__ import annotations

import re

from vibeplot.core.stack import Failure

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
    return advice


#: failures this explainer is written for (the stack contract checks it advises on each)
advise.examples = [
    "ValueError: ServiceX result path list for adl1 cannot be empty.",
    'RuntimeError: Transform "adl1" completed with failures: 1/1 files failed',
]
