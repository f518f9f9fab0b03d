"""Running generated code: the parent side (:mod:`.run`, :mod:`.isolation`) and what runs
inside the script (:mod:`.child`).

The names of :mod:`.run` (``run_script``, ``Limits``, ``RunResult``, ``Grant``, ...) are
available here too, loaded on first use, so that a script importing :mod:`.child` does not
pay for the parent side.

>>> from vibeplot.core.sandbox import Limits
>>> Limits().timeout
600.0
"""

from __future__ import annotations


import importlib

_SUBMODULES = {"run", "isolation", "child"}


def __getattr__(name: str):
    if name in _SUBMODULES:  # ``from vibeplot.core.sandbox import run`` before it is loaded
        return importlib.import_module(f"{__name__}.{name}")
    run = importlib.import_module(f"{__name__}.run")
    try:
        return getattr(run, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
