"""The start-up modules' pipe to vibeplot: what they record cannot be forged by editing files.

vibeplot's runner (:func:`vibeplot.core.sandbox.run_script`) gives the script the write end
of a pipe and names it in ``VIBEPLOT_CAPTURE_FD``.  This module takes it from the
environment when the first start-up module imports it, before the generated code starts, and makes it
non-inheritable, so the script's own subprocesses do not get it.  Each :func:`send` is one
JSON line; vibeplot writes the files (``NAME.png.json``, recorded values) itself.

>>> send({"image": "/tmp/x.png", "axes": []}) if FD is None else False  # outside the runner
False
"""

from __future__ import annotations

import json
import os

ENV = "VIBEPLOT_CAPTURE_FD"


def _take() -> int | None:
    fd = os.environ.pop(ENV, None)
    if fd is None:
        return None
    try:
        fd = int(fd)
        os.set_inheritable(fd, False)
        return fd
    except (ValueError, OSError):
        return None


FD = _take()


def send(record: dict) -> bool:
    """Send ``record`` to vibeplot; False when not run by vibeplot's runner (nothing sent)."""
    if FD is None:
        return False
    data = memoryview((json.dumps(record) + "\n").encode())
    while data:
        data = data[os.write(FD, data):]
    return True
