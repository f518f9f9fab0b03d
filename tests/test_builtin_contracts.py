"""Every built-in stack keeps the stack contract of :mod:`vibeplot.testing` (its static part:
registration, prompt, bricks, references named after questions and accepted by its policies,
explainers advising on their own example failures).  Reference runs end to end are tested in
tests/test_reference_e2e.py."""

import pytest

from vibeplot.testing import check_stack


@pytest.mark.parametrize("name", ["uproot_opendata", "servicex_awkward", "rdataframe"])
def test_builtin_stack_keeps_the_static_contract(name, sample):
    report = check_stack(name, questions=[])
    assert report.ok, report
