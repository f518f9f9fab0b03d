"""The examples in docstrings run."""

import doctest
import importlib

import pytest

MODULES = [
    "vibeplot.core.stack", "vibeplot.core.questions", "vibeplot.core.ask.extract", "vibeplot.core.policies",
    "vibeplot.core.servicex.local.launcher", "vibeplot.core.sandbox.child.patch", "vibeplot.stacks.servicex_awkward.policies",
    "vibeplot.stacks.rdataframe.policies", "vibeplot.core.bench.compare", "vibeplot.core.ask.validate", "vibeplot.core.ask.llm",
    "vibeplot.core.sandbox.isolation", "vibeplot.core.sandbox.child.channel",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0
