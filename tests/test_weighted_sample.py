"""The embedded weighted sample: deterministic, Σw as the catalog states, resolved and prompted."""

import json
from pathlib import Path

import numpy as np
import pytest
import uproot

from vibeplot.datasets import catalog, embedded
from vibeplot.datasets.sample import generate_weighted_sample, sum_of_weights


def test_weighted_sample_is_deterministic_with_nlo_like_weights(tmp_path):
    a = generate_weighted_sample(tmp_path / "a.root", n_events=3000, seed=7)
    b = generate_weighted_sample(tmp_path / "b.root", n_events=3000, seed=7)
    c = generate_weighted_sample(tmp_path / "c.root", n_events=3000, seed=8)
    w = uproot.open(a)["Events"]["genWeight"].array(library="np")
    assert np.array_equal(w, uproot.open(b)["Events"]["genWeight"].array(library="np"))
    assert not np.array_equal(w, uproot.open(c)["Events"]["genWeight"].array(library="np"))
    assert 0.10 < (w < 0).mean() < 0.20
    assert 800 < np.abs(w).min() and np.abs(w).max() < 2000 and abs(np.median(np.abs(w)) - 1250) < 20  # scale x spread
    assert set(uproot.open(a)["Events"].keys()) >= {"genWeight", "MET_pt", "Jet_pt", "Muon_charge", "nJet"}


def test_catalog_sum_of_weights_is_the_generated_samples(tmp_path):
    e = catalog.entry(embedded.WEIGHTED_NAME)
    path = embedded.ensure_sample(weighted=True)
    files = embedded.ensure_weighted_sample()
    assert path == files[0] == Path(catalog.dataset(embedded.WEIGHTED_NAME).location)  # the location: the first file
    assert [uproot.open(f)["Events"].num_entries for f in files] == e["files_nevts"] == list(embedded.WEIGHTED_FILE_EVENTS)
    assert sum(e["files_nevts"]) == e["n_events"] == embedded.WEIGHTED_EVENTS
    assert sum_of_weights(files) == e["sum_of_weights"]  # over the whole sample
    assert [sum_of_weights(f) for f in files] == e["files_sum_of_weights"]
    # the first file alone (what NFiles=1 delivers) has a clearly different Σw
    assert e["sum_of_weights"] / e["files_sum_of_weights"][0] > 2
    # the files are the single-file sample's events, in order
    one = generate_weighted_sample(tmp_path / "one-file.root", n_events=embedded.WEIGHTED_EVENTS,
                                   seed=embedded.WEIGHTED_SEED)
    met = np.concatenate([uproot.open(f)["Events"]["MET_pt"].array(library="np") for f in files])
    assert np.array_equal(met, uproot.open(one)["Events"]["MET_pt"].array(library="np"))
    assert sum_of_weights(one) == e["sum_of_weights"]
    assert e["kind"] == "simulation" and e["weight_branch"] == "genWeight"
    assert all(e[k] > 0 for k in ("cross_section_pb", "filter_efficiency", "k_factor"))


def test_weighted_sample_resolves_and_tells_the_model_how_to_normalise():
    from vibeplot.core import resolver

    for phrase in ("weighted sample", "the embedded weighted sample", "adl weighted sample"):
        assert resolver.resolve(phrase, resolver.ResolveContext()).dataset.name == embedded.WEIGHTED_NAME
    assert resolver.resolve("adl sample", resolver.ResolveContext()).dataset.name == embedded.NAME
    block = catalog.dataset(embedded.WEIGHTED_NAME).prompt_block()
    e = catalog.entry(embedded.WEIGHTED_NAME)
    assert "`genWeight`" in block and repr(e["sum_of_weights"]) in block
    assert "genWeight * sigma * filter_eff * k_factor * L" in block and "y-axis label" in block
    assert "no event weights" not in block.lower()
    assert "The sample is 3 files (8000, 7000, 5000 events)" in block and "the only one read here" in block
    assert "no event weights" in catalog.dataset(embedded.NAME).prompt_block().lower()


def test_reference_answers_the_normalised_question_correctly(tmp_path):
    """Fast tier: one end-to-end run on the weighted sample (every stack: tests/test_reference_e2e.py)."""
    import json

    from conftest import only_run_dir, run_cli
    from vibeplot.core.questions import registry

    proc = run_cli("ask", "--model", "reference", "--stack", "uproot_opendata", registry()["met-lumi"].text, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run = only_run_dir(tmp_path / "vibeplot-runs")
    manifest = json.loads((run / "run.json").read_text())
    assert manifest["question_id"] == "met-lumi" and manifest["dataset"]["name"] == embedded.WEIGHTED_NAME
    assert manifest["verdict"] == {"status": "correct", "diagnosis": []}, manifest["verdict"]


def test_lumi_goes_into_the_dataset_section(monkeypatch):
    from vibeplot.core import config, plugins
    from vibeplot.core.ask.loop import AskOptions, choose_dataset

    stack = plugins.stacks()["uproot_opendata"]
    question = "Plot the weighted MET of all events"
    ds, _ = choose_dataset(AskOptions(question=question, lumi=config.lumi_setting(5)), stack, check=False)
    assert ds.name == embedded.WEIGHTED_NAME
    assert "L = 5 fb^-1 = 5000 pb^-1; state it in the y-axis label" in ds.prompt_block()
    ds, _ = choose_dataset(AskOptions(question=question), stack, check=False)
    assert "--lumi" not in ds.prompt_block()
    monkeypatch.setenv("VIBEPLOT_LUMI", "0.5")
    assert config.lumi_setting() == 0.5 and config.lumi_setting(2.0) == 2.0


def test_bad_lumi_stops_before_any_work(tmp_path):
    from conftest import run_cli

    proc = run_cli("ask", "--model", "reference", "--lumi", "-1", "met-lumi", cwd=tmp_path)
    assert proc.returncode == 2 and "lumi setting is -1.0" in proc.stderr, proc.stderr
    assert not (tmp_path / "vibeplot-runs").exists()


def test_damaged_weighted_file_regenerates_the_sample(tmp_path, monkeypatch, capsys):
    """Every file of the weighted sample is checked against its record (size, sha256); a damaged
    one makes all of them be generated again, with one warning naming it."""
    monkeypatch.setenv("VIBEPLOT_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(embedded, "_checked", {})
    files = embedded.ensure_weighted_sample()
    assert capsys.readouterr().err == ""
    records = [json.loads(embedded.record_path(f).read_text()) for f in files]
    assert [r["events"] for r in records] == list(embedded.WEIGHTED_FILE_EVENTS)
    assert all(r["size"] == f.stat().st_size and oct(f.stat().st_mode & 0o777) == "0o444" for r, f in zip(records, files))
    damaged = files[2]
    damaged.chmod(0o644)
    with open(damaged, "r+b") as fh:
        fh.seek(damaged.stat().st_size // 2)
        fh.write(bytes(64 * [0xFF]))
    embedded._checked.clear()
    assert embedded.ensure_weighted_sample() == files
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and damaged.name in err[0] and "sha256" in err[0] and "generating it again" in err[0], err
    embedded._checked.clear()  # the new files match their new records (uproot writes fresh UUIDs: new sha256)
    assert embedded.ensure_weighted_sample() == files and capsys.readouterr().err == ""
    assert sum_of_weights(files) == catalog.entry(embedded.WEIGHTED_NAME)["sum_of_weights"]
    assert not list(tmp_path.glob(".weighted-*")), "no temporary directory left"


@pytest.mark.slow  # one scripted run, validated (the reference and the known mistakes recorded): about 20 s
def test_sum_of_weights_of_the_file_read_is_named_through_ask(tmp_path):
    """A model's answer to met-lumi that divides by the Σw of the file it read (the first of three)
    instead of the whole sample's: ask's validation names it, from run.json's dataset."""
    from conftest import only_run_dir, read_manifest, run_cli
    from vibeplot.core import plugins
    from vibeplot.core.questions import registry
    from vibeplot.testing.scripted_server import ScriptedServer

    data = embedded.ensure_sample(weighted=True)
    code = plugins.get_stack("uproot_opendata").reference_solution("met-lumi").replace("{{dataset}}", str(data))
    read = '    events = f["Events"].arrays(["MET_pt", "genWeight"])\n'
    assert read in code
    code = code.replace(read, read + "SCALE = 2000.0 * 0.9 * 1.1 * LUMI_PB / float(np.sum(np.asarray(events.genWeight, "
                                     "dtype=np.float64)))  # the Σw of what was read\n")
    with ScriptedServer([f"- MET normalised to 10 fb^-1.\n\n```python\n{code}```\n"]) as server:
        proc = run_cli("ask", "--model", "openai/gpt-4o-mini", "--api-base", server.url, "--no-cache",
                       registry()["met-lumi"].text, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    manifest = read_manifest(only_run_dir(tmp_path / "vibeplot-runs"))
    assert manifest["dataset"]["metadata"]["files_sum_of_weights"][0] < manifest["dataset"]["metadata"]["sum_of_weights"]
    verdict = manifest["verdict"]
    assert verdict["status"] == "wrong" and len(verdict["diagnosis"]) == 1, verdict
    assert "known mistake: Σw from the delivered files only" in verdict["diagnosis"][0], verdict
    # without the registry's mistake, the factor is recognised from run.json's dataset record
    from vibeplot.core.ask.validate import known_scales

    ((factor, reason),) = known_scales(manifest["dataset"])
    assert abs(factor - 2.5228) < 1e-3 and reason.startswith("Σw from the delivered files only")
