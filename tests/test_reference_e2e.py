"""End to end: `vibeplot ask --model reference` for ADL Q1-Q8, each one attempt, each a PNG."""

import pytest

from conftest import only_run_dir, read_manifest, run_cli
from vibeplot.core.questions import registry

ADL = [q for q in registry().values() if q.id.startswith("adl-")]


@pytest.mark.parametrize("question", ADL, ids=[q.id for q in ADL])
def test_adl_reference_one_attempt(question, tmp_path, sample):
    proc = run_cli("ask", "--model", "reference", "--stack", "uproot_opendata", question.text, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run = only_run_dir(tmp_path / "vibeplot-runs")
    manifest = read_manifest(run)
    assert manifest["question_id"] == question.id
    assert manifest["totals"]["attempts"] == 1
    assert manifest["plots"] and all((run / p).stat().st_size > 5000 for p in manifest["plots"])
    expected = 2 if question.id == "adl-6" else 1
    assert len(manifest["plots"]) == expected
