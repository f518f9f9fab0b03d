"""The stack contract (`vibeplot.testing.check_stack`): the toy third-party stack keeps it, broken
variants of it do not, and the report says why."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from vibeplot.core import plugins
from vibeplot.testing import check_stack


def test_toy_stack_keeps_the_contract(sample):
    report = check_stack("toy")
    assert report.ok, report
    names = [c.name for c in report.checks]
    assert {"registered", "well formed", "reads the dataset", "hint bricks exist", "prompt renders",
            "policies accept the references", "explainer _advice"} <= set(names)
    runs = {c.name: c.detail for c in report.checks if c.name.startswith("reference run")}
    assert list(runs) == ["reference run adl-1", "reference run adl-2"]
    assert all("verdict correct" in detail for detail in runs.values()), runs
    assert report.runs is None  # the temporary run directories are gone when all passed


def test_builtin_stack_static_contract_with_given_failures():
    """Static checks only (questions=[]); uproot_opendata's explainers get their failures here."""
    report = check_stack("uproot_opendata", questions=[],
                         failures=["KeyInFileError: not found: 'MET_et'",
                                   "ModuleNotFoundError: No module named 'pandas'"])
    assert report.ok and not any(c.name.startswith("reference run") for c in report.checks), report


def _toy_variant(tmp_path, name: str, **changes):
    """The toy stack under another name, with a copy of its references to break."""
    toy = plugins.get_stack("toy")
    refs = tmp_path / "references"
    shutil.copytree(toy.references_dir, refs)
    return dataclasses.replace(toy, name=name, references_dir=refs, **changes)


def test_contract_catches_a_broken_stack(tmp_path, register_stack, sample):
    def silent(failure):  # written for a failure it says nothing about
        return []

    silent.examples = ["KeyError: 'Jet_pt'"]

    def last_line(failure):  # breaks on a failure with no stderr
        return [f"look at: {failure.stderr.splitlines()[-1]}"]

    last_line.examples = ["ValueError: bins must increase"]
    stack = _toy_variant(tmp_path, "broken_toy", hint_bricks=["hist_mplhep", "no_such_brick"],
                         explainers=[silent, last_line, lambda failure: []])
    adl1 = stack.references_dir / "adl1.py"
    adl1.write_text(adl1.read_text() + "plt.show()\n")
    (stack.references_dir / "adl_2.py").write_text("print('a typo in the name')\n")
    register_stack(stack)

    with pytest.raises(AssertionError) as caught:
        check_stack("broken_toy", questions=[])
    text = str(caught.value)
    assert text.startswith("stack contract of 'broken_toy' on adl-sample")
    failed = {line.split()[1] for line in text.splitlines() if line.startswith("  FAIL")}
    assert failed == {"hint", "references", "policies", "explainer"}, text
    assert "FAIL  hint bricks exist: stack broken_toy uses hint brick 'no_such_brick', which does not exist" in text
    assert "FAIL  policies accept the references: adl1.py: Do not call plt.show()" in text
    assert "adl_2.py in" in text and "match no benchmark question" in text
    assert "no advice for \"KeyError: 'Jet_pt'\", a failure it is written for" in text
    assert "on an empty failure: raised IndexError" in text
    assert "FAIL  explainer <lambda>: no example failures to check it with" in text
    assert "no example failures to check it with" in text


def test_contract_catches_a_wrong_reference(tmp_path, register_stack, sample):
    """A reference that runs and plots, but MET in MeV: the verdict is wrong and the report says so."""
    stack = _toy_variant(tmp_path, "mev_toy")
    adl1 = stack.references_dir / "adl1.py"
    code = adl1.read_text()
    wrong = code.replace("plt.hist(met, bins=50, range=(0, 200)", "plt.hist(met * 1000, bins=50, range=(0, 200000)")
    assert wrong != code
    adl1.write_text(wrong)
    register_stack(stack)

    report = check_stack("mev_toy", questions="adl-1", out=tmp_path / "runs", raise_on_failure=False)
    assert [c.name for c in report.failed] == ["reference run adl-1"], report
    detail = report.failed[0].detail
    assert "verdict wrong" in detail and "looks scaled by 1000" in detail, detail
    assert report.runs == tmp_path / "runs" and "run directories:" in str(report)


def test_unknown_stack_and_unknown_question(sample):
    with pytest.raises(AssertionError, match="FAIL  registered: unknown stack 'no_such_stack'"):
        check_stack("no_such_stack")
    report = check_stack("toy", questions=["adl-1", "no-such-q"], raise_on_failure=False)
    assert [c.name for c in report.failed] == ["questions selected"]
    assert "unknown question(s) no-such-q" in report.failed[0].detail
    report = check_stack("toy", questions="adl-3", raise_on_failure=False)
    assert [(c.name, c.detail) for c in report.failed] == [("questions selected", "no reference solution for adl-3")]
