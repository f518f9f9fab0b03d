"""What a dataset allows before anything runs: showing a prompt needs no credentials, and the
reference oracle refuses a dataset format its solutions were not written for."""

from __future__ import annotations

import time

from conftest import run_cli

QUESTION = "Plot the missing transverse energy of all events"


def _isolated_env(tmp_path) -> dict:
    """No servicex.yaml anywhere the client or vibeplot would look."""
    return {"HOME": str(tmp_path / "home"), "VIBEPLOT_CONFIG": str(tmp_path / "none.toml"),
            "VIBEPLOT_SERVICEX_CONFIG": ""}


def test_hints_show_a_rucio_dataset_without_servicex_config(tmp_path):
    (tmp_path / "home").mkdir()
    proc = run_cli("hints", "show", "--stack", "servicex_awkward", "--dataset", "semileptonic ttbar",
                   "Plot the jet pT", cwd=tmp_path, env=_isolated_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert 'dataset.Rucio("mc23_13p6TeV:' in proc.stdout and "## Question\nPlot the jet pT" in proc.stdout
    # running it still needs the configuration, and says so before any model call
    proc = run_cli("ask", "--model", "reference", "--stack", "servicex_awkward", "--dataset", "semileptonic ttbar",
                   "--out", "runs", QUESTION, cwd=tmp_path, env=_isolated_env(tmp_path))
    assert proc.returncode == 2 and "no servicex.yaml was found" in proc.stderr, proc.stderr
    assert not (tmp_path / "runs").exists()


def test_reference_refuses_a_format_its_solutions_do_not_read(tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "servicex.yaml").write_text("api_endpoints:\n  - endpoint: https://servicex.invalid\n    name: x\n")
    for stack, phrase in [("servicex_awkward", "semileptonic ttbar"), ("rdataframe", "semileptonic ttbar")]:
        start = time.monotonic()
        proc = run_cli("ask", "--model", "reference", "--stack", stack, "--dataset", phrase, "--out", "runs",
                       QUESTION, cwd=tmp_path, env=_isolated_env(tmp_path))
        assert proc.returncode == 2, proc.stderr
        assert f"the {stack} stack's reference solutions are written for flat-ntuple or root-file datasets" in proc.stderr
        assert "is physlite" in proc.stderr and "Traceback" not in proc.stderr
        assert time.monotonic() - start < 30  # refused before running, not after a failed delivery
    assert not any((tmp_path / "runs").glob("*/attempt-*"))


def test_a_question_asked_by_id_reaches_the_model_in_its_registered_wording(tmp_path):
    from vibeplot.core.questions import registry

    proc = run_cli("hints", "show", "--stack", "uproot_opendata", "adl-6", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"## Question\n{registry()['adl-6'].text}\n" in proc.stdout
