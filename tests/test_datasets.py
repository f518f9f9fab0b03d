"""Dataset resolution: catalog, phrase matching, ambiguity, stack/format checks, the plugin hook."""

from __future__ import annotations

import json

import pytest

from conftest import only_run_dir, read_manifest, run_cli
from vibeplot.core.resolver import (
    AmbiguousDataset, ResolveContext, candidates, find_phrase, normalise_phrase, resolve, strip_phrase,
)
from vibeplot.core.errors import DatasetError
from vibeplot.datasets import catalog

CTX = ResolveContext()


# --- catalog --------------------------------------------------------------------------

def test_every_entry_has_sources_kind_and_a_valid_format():
    names = [e["name"] for e in catalog.entries()]
    assert len(names) == len(set(names)) >= 31
    for e in catalog.entries():
        assert e.get("sources"), e["name"]
        assert e["format"] in catalog.FORMATS, e["name"]
        assert e["kind"] in catalog.KINDS, e["name"]
        assert catalog.location(e), e["name"]


def test_catalog_dataset_carries_metadata_and_weighting_notes():
    ds = catalog.dataset("mc23-ttbar-semileptonic")
    assert ds.location.startswith("mc23_13p6TeV:mc23_13p6TeV.601229.")
    assert ds.format == "physlite" and ds.experiment == "ATLAS"
    assert ds.metadata["cross_section_pb"] == 811.29 and ds.metadata["sources"]
    assert "811.29 pb" in ds.prompt_notes and "k_factor" in ds.prompt_notes
    data = catalog.dataset("data23-physlite")
    assert "No integrated luminosity is known" in data.prompt_notes


def test_embedded_entry_is_the_embedded_sample():
    from vibeplot.datasets import embedded

    ds = catalog.dataset("adl-sample")
    assert ds.location == embedded.dataset().location and ds.prepare is not None
    assert ds.metadata["sources"]


# --- matching -------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Semi-leptonic tt̄", "semileptonic ttbar"),
    ("top pair lepton+jets", "ttbar semileptonic"),
    ("Z -> μμ", "zmumu"),
    ("Z to mu mu", "zmumu"),
    ("the ADL benchmark sample", "adl benchmark sample"),
])
def test_normalise_phrase(text, expected):
    assert normalise_phrase(text) == expected


@pytest.mark.parametrize("phrase, name", [
    ("semileptonic ttbar", "mc23-ttbar-semileptonic"),
    ("ttbar lepton+jets", "mc23-ttbar-semileptonic"),
    ("single-lepton tt̄", "mc23-ttbar-semileptonic"),
    ("madgraph Z->mumu", "mc23-zmumu-mg-cfilterbveto"),
    ("mc20-zee-sherpa", "mc20-zee-sherpa"),
    ("the ADL benchmark sample", "adl-sample"),
])
def test_exact_alias(phrase, name):
    found = resolve(phrase, CTX)
    assert found.dataset.name == name and found.score == 1.0 and found.why.startswith("exact")


def test_z_to_mu_mu_asks_which_slice():
    """The catalog has no inclusive Z->mumu sample: the phrase lists the slices instead of picking one."""
    for phrase in ("Z to mu mu", "Z->mumu", "Z→μμ", "zmumu"):
        with pytest.raises(AmbiguousDataset) as err:
            resolve(phrase, CTX)
        assert [c.dataset.name for c in err.value.candidates] == [
            "mc23-zmumu-mg-cfilterbveto", "mc23-zmumu-sherpa", "opendata-zmumu"]
        assert all(c.score == 1.0 for c in err.value.candidates)


def test_only_an_exact_match_scores_one():
    found = resolve("semileptonic ttbar", CTX)
    assert found.score == 1.0 and found.alternatives
    assert all(c.score < 1.0 for c in found.alternatives)


def test_a_rucio_did_resolves_to_its_entry_or_to_itself():
    other = "mc23_13p6TeV:mc23_13p6TeV.701005.Sh_2214_lllvjj.deriv.DAOD_PHYSLITE.e8543_s4162_r14622_p6697"
    found = resolve(other, CTX)
    assert found.dataset.name == "mc23-lllvjj" and found.dataset.location == other
    assert found.dataset.metadata["cross_section_pb"] == 0.0531
    unknown = "mc23_13p6TeV:mc23_13p6TeV.999999.Sh_2214_test.deriv.DAOD_PHYSLITE.e8543_s4162_r14622_p6697"
    found = resolve(unknown, CTX)
    assert found.dataset.location == unknown and found.dataset.format == "physlite"
    assert "Not in vibeplot's catalog" in found.dataset.prompt_notes


def test_fuzzy_match_with_a_typo():
    found = resolve("semileptnic ttbar", CTX)
    assert found.dataset.name == "mc23-ttbar-semileptonic"
    assert 0.85 <= found.score < 1.0 and found.why.startswith("best match")


def test_ttbar_alone_is_ambiguous():
    with pytest.raises(AmbiguousDataset) as err:
        resolve("ttbar", CTX)
    names = {c.dataset.name for c in err.value.candidates}
    assert {"mc23-ttbar-allhad", "mc23-ttbar-semileptonic", "mc23-ttbar-dilepton", "mc20-ttbar-nonallhad"} <= names
    assert isinstance(err.value, DatasetError)


def test_two_exact_matches_are_ambiguous():
    with pytest.raises(AmbiguousDataset) as err:
        resolve("W+jets", CTX)
    assert {c.dataset.name for c in err.value.candidates} == {"mc23-wenu-sherpa", "mc23-wmunu-sherpa"}


@pytest.mark.parametrize("phrase", ["ttbar higgs", "higgs to gamma gamma"])
def test_unknown_phrase_names_the_closest_never_guesses(phrase):
    with pytest.raises(DatasetError) as err:
        resolve(phrase, CTX)
    assert not isinstance(err.value, AmbiguousDataset)
    assert "no dataset matches" in str(err.value) and "closest" in str(err.value)


def test_stack_formats_lower_fuzzy_scores():
    plain = {c.dataset.name: c.score for c in candidates("ttbar", CTX)}
    ctx = ResolveContext(stack="uproot_opendata", formats=("flat-ntuple", "nanoaod", "root-file"))
    scored = {c.dataset.name: c.score for c in candidates("ttbar", ctx)}
    assert scored["mc23-ttbar-semileptonic"] < plain["mc23-ttbar-semileptonic"]
    assert scored["agc-cms-ttbar-nanoaod"] == plain["agc-cms-ttbar-nanoaod"]


def test_phrase_found_in_question():
    q = "Plot the missing ET of all events in the ADL benchmark sample"
    assert find_phrase(q) == "adl benchmark sample"
    assert find_phrase("Plot the jet pT in semileptonic ttbar") == "semileptonic ttbar"
    assert find_phrase("Plot the missing ET of all events") is None
    from vibeplot.core import questions

    assert questions.match(strip_phrase(q, find_phrase(q))).id == "adl-1"


def test_benchmark_questions_name_no_dataset():
    """...except a question about several samples, whose wordings name exactly its registered datasets."""
    from vibeplot.core import questions
    from vibeplot.core.resolver import find_phrases

    for q in questions.registry().values():
        for text in (q.text, *q.aliases):
            if len(q.datasets) > 1:
                assert find_phrases(text) == list(q.datasets), (q.id, text)
            else:
                assert find_phrase(text) is None, (q.id, text)


# --- choose_dataset (no model involved) -------------------------------------------------

def _choose(question, stack="uproot_opendata", dataset=None, choose=None):
    from vibeplot.core import plugins
    from vibeplot.core.ask.loop import AskOptions, choose_dataset

    from types import SimpleNamespace

    warnings = []
    # "any": a stand-in stack that reads every format and checks nothing (no ServiceX config needed)
    st = SimpleNamespace(name="any", formats=(), check_dataset=None) if stack == "any" else plugins.get_stack(stack)
    ds, why = choose_dataset(AskOptions(question=question, stack=st.name, dataset=dataset),
                             st, choose=choose, warn=warnings.append)
    return ds, why, warnings


def test_precedence_dataset_option_over_question_phrase():
    ds, why, _ = _choose("Plot the MET in the ADL benchmark sample", dataset="cms-adl-run2012b-singlemu")
    assert ds.name == "cms-adl-run2012b-singlemu" and why["why"].startswith("--dataset")


def test_default_is_the_embedded_sample():
    ds, why, _ = _choose("Plot the missing ET of all events")
    assert ds.name == "adl-sample" and "benchmark question adl-1" in why["why"]


def test_ambiguous_in_ask_without_a_chooser_is_an_error():
    with pytest.raises(AmbiguousDataset) as err:
        _choose("Plot the leading jet pT", stack="any", dataset="ttbar")
    assert "--dataset 'ttbar'" in str(err.value) and "mc23-ttbar-dilepton" in str(err.value)
    assert err.value.exit_code == 2 and "--dataset NAME" in err.value.hint
    with pytest.raises(AmbiguousDataset) as err:
        _choose("Plot the leading jet pT in W+jets", stack="any")
    assert {c.dataset.name for c in err.value.candidates} == {"mc23-wenu-sherpa", "mc23-wmunu-sherpa"}
    assert "named in the question" in str(err.value)


def test_a_fuzzy_dataset_phrase_is_taken_with_a_warning():
    ds, why, warnings = _choose("Plot the leading jet pT", stack="any", dataset="semileptnic ttbar")
    assert ds.name == "mc23-ttbar-semileptonic" and why["why"].startswith("--dataset")
    assert warnings and "not a dataset name or alias" in warnings[0]


def test_ambiguous_in_ask_with_a_chooser():
    ds, why, _ = _choose("Plot the leading jet pT", stack="any", dataset="ttbar",
                         choose=lambda phrase, found: next(c for c in found if c.dataset.name == "mc23-ttbar-dilepton"))
    assert ds.name == "mc23-ttbar-dilepton" and "chosen interactively" in why["why"]


def test_format_mismatch_is_an_error():
    with pytest.raises(DatasetError, match="physlite"):
        _choose("Plot the missing ET of all events in semileptonic ttbar")


# --- the plugin hook ---------------------------------------------------------------------

def test_third_party_resolver_through_entry_point():
    from vibeplot.core import plugins

    found = resolve("toy plugin sample", CTX)
    assert found.dataset.name == "toy-plugin-sample"
    assert any(getattr(r, "__module__", "") == "vibeplot_toy_stack" for r in plugins.dataset_resolvers())
    assert find_phrase("Plot MET in the toy dataset") == "toy dataset"


# --- CLI ---------------------------------------------------------------------------------

def test_cli_resolve_semileptonic_ttbar(tmp_path):
    out = run_cli("datasets", "resolve", "semileptonic ttbar", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "mc23_13p6TeV:mc23_13p6TeV.601229.PhPy8EG_A14_ttbar_hdamp258p75_SingleLep" in out.stdout
    assert "811.29" in out.stdout and "alternatives:" in out.stdout


def test_cli_resolve_ambiguous_and_unknown(tmp_path):
    out = run_cli("datasets", "resolve", "ttbar", cwd=tmp_path)
    assert out.returncode == 0 and "ambiguous" in out.stdout and "mc23-ttbar-dilepton" in out.stdout
    out = run_cli("datasets", "resolve", "ttbar higgs", cwd=tmp_path)
    assert out.returncode == 2 and "closest" in out.stderr


def test_cli_list_and_show(tmp_path):
    out = run_cli("datasets", "list", "--experiment", "CMS", cwd=tmp_path)
    assert out.returncode == 0 and "agc-cms-ttbar-nanoaod" in out.stdout and "mc23-" not in out.stdout
    out = run_cli("datasets", "list", "--format", "physlite", cwd=tmp_path)
    assert "mc23-ttbar-semileptonic" in out.stdout and "adl-sample" not in out.stdout
    out = run_cli("datasets", "show", "mc23-ttbar-semileptonic", cwd=tmp_path)
    assert out.returncode == 0 and "sources:" in out.stdout and "0.4384567" in out.stdout
    out = run_cli("datasets", "show", "mc23-ttbar-semilep", cwd=tmp_path)
    assert out.returncode == 2 and "mc23-ttbar-semileptonic" in out.stderr


def test_ask_format_mismatch_before_any_model_call(tmp_path):
    out = run_cli("ask", "--out", "runs", "--stack", "uproot_opendata", "--model", "reference",
                  "Plot the missing ET of all events in semileptonic ttbar", cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert "physlite" in out.stderr and "uproot_opendata" in out.stderr
    assert not (tmp_path / "runs").exists()


def test_ask_resolves_phrase_in_question(tmp_path, sample):
    out = run_cli("ask", "--out", "runs", "--model", "reference",
                  "Plot the missing ET of all events in the ADL benchmark sample", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    manifest = read_manifest(only_run_dir(tmp_path / "runs"))
    res = manifest["dataset_resolution"]
    assert res["name"] == "adl-sample" and res["phrase"] == "adl benchmark sample"
    assert res["score"] == 1.0 and "named in the question" in res["why"]
    assert manifest["question_id"] == "adl-1"
    json.dumps(res)
