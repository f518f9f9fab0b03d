"""The examples in docstrings run."""

import doctest
import importlib

import pytest

MODULES = [
    "vibeplot.core.stack", "vibeplot.core.questions", "vibeplot.core.extract", "vibeplot.core.policies",
    "vibeplot.core.sxlocal.launcher", "vibeplot.core.import_hooks", "vibeplot.stacks.servicex_awkward.policies",
    "vibeplot.stacks.rdataframe.policies", "vibeplot.core.compare", "vibeplot.core.validate", "vibeplot.core.llm",
    "vibeplot.core.isolation", "vibeplot.core.hook_channel",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0
