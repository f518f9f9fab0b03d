"""Patch a module right after it is imported, without importing it early.

Used by the sandbox's start-up modules (:mod:`.capture`, :mod:`.values`)
so that scripts which never import matplotlib, hist or ROOT pay nothing.

>>> after_import("json", lambda module: None)   # already imported: patched at once
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from typing import Callable


class _AfterImport(importlib.abc.MetaPathFinder):
    """Calls every ``patch(module)`` registered for ``name`` right after ``name`` is imported."""

    def __init__(self, name: str):
        self.name, self.patches = name, []

    def find_spec(self, name, path=None, target=None):
        if name != self.name:
            return None
        sys.meta_path.remove(self)
        _pending.pop(name, None)
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            for patch in self.patches:  # in registration order
                _safely(patch, sys.modules.get(name, module), name)  # ROOT swaps in its facade

        spec.loader.exec_module = exec_and_patch
        return spec


_pending: dict[str, _AfterImport] = {}  # one finder per module name, however many patches


def _safely(patch: Callable, module, name: str) -> None:
    try:
        patch(module)
    except Exception as err:  # a patch must never break the user's script
        print(f"vibeplot: could not patch {name}: {err}", file=sys.stderr)


def after_import(name: str, patch: Callable) -> None:
    """Run ``patch(module)`` once ``name`` is imported (at once if it already is).

    Several patches for one module all run, in the order they were registered.
    """
    if name in sys.modules:
        _safely(patch, sys.modules[name], name)
        return
    if name not in _pending:
        _pending[name] = _AfterImport(name)
        sys.meta_path.insert(0, _pending[name])
    _pending[name].patches.append(patch)
