"""The examples in docstrings run: every module of the package that has runnable examples.

The modules are found, not listed: every package named in pyproject.toml and every module below
it (``__main__`` modules excepted: importing one runs it).  A module whose examples are all
``# doctest: +SKIP`` (they need a running backend or a sandbox) is not collected; a module that
fails to import is, and fails.
"""

import doctest
import importlib
import pkgutil
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _module_names() -> list[str]:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    names = set(packages)
    for package in packages:
        try:
            path = importlib.import_module(package).__path__
        except Exception:  # reported by the test of the package itself
            continue
        names.update(info.name for info in pkgutil.walk_packages(path, package + ".", onerror=lambda _: None))
    return sorted(n for n in names if n.rsplit(".", 1)[-1] != "__main__")


def _runnable(name: str) -> bool:
    """True when ``name`` has an example that is not skipped, or cannot be imported (the test says why)."""
    try:
        tests = doctest.DocTestFinder().find(importlib.import_module(name))
    except Exception:
        return True
    return any(not example.options.get(doctest.SKIP) for test in tests for example in test.examples)


def _modules() -> list[str]:
    names = _module_names()
    for name in names:  # all imported first: finding examples must not import more into a package
        try:
            importlib.import_module(name)
        except Exception:
            pass
    return [name for name in names if _runnable(name)]


MODULES = _modules()


def test_the_known_modules_are_found():
    """The collector sees the modules that have examples (a broken walk would collect nothing)."""
    assert {"vibeplot.core.stack", "vibeplot.core.ask.extract", "vibeplot.core.resolver",
            "vibeplot.datasets.sample", "vibeplot.core.servicex.local.transforms",
            "vibeplot.core.servicex.local.launcher"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0
