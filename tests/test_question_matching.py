"""Benchmark questions recognised as people word them, and datasets chosen only where a question
names one.  The paraphrases, near misses and dataset questions are data: tests/data/*.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from conftest import only_run_dir, read_manifest, run_cli
from vibeplot.core import questions
from vibeplot.core.errors import EXIT_USAGE
from vibeplot.core.questions import _numbers_text, explain, registry, signature
from vibeplot.core.resolver import AmbiguousDataset

DATA = Path(__file__).parent / "data"
PHRASINGS = tomllib.loads((DATA / "paraphrases.toml").read_text("utf-8"))
DATASET_QUESTIONS = tomllib.loads((DATA / "dataset_questions.toml").read_text("utf-8"))["question"]
PARAPHRASES = [(qid, text) for qid, texts in PHRASINGS["paraphrases"].items() for text in texts]
NEAR_MISSES = PHRASINGS["near_miss"]


# --- the data files ------------------------------------------------------------------------------

def test_paraphrase_file_covers_every_adl_question_and_kind_of_near_miss():
    ids = registry()
    per_id = {qid: len(texts) for qid, texts in PHRASINGS["paraphrases"].items()}
    assert set(per_id) <= set(ids)
    assert all(per_id.get(q.id, 0) >= 3 for q in ids.values() if "adl" in q.tags), per_id
    assert {n["of"] for n in NEAR_MISSES} <= set(ids)
    assert {"cut", "object", "charge"} <= {n["changed"] for n in NEAR_MISSES}
    # written independently: no paraphrase is a registered wording
    registered = {p.lower().rstrip(".") for q in ids.values() for p in (q.text, *q.aliases)}
    assert not [t for _, t in PARAPHRASES if t.lower().rstrip(".") in registered]


# --- recognition, measured -------------------------------------------------------------------------

def test_every_paraphrase_is_recognised_and_no_near_miss_matches():
    """The recognition figures (also printed by benchmarks/bench_questions.py): all paraphrases
    recognised as their own id, no near miss matched to any question."""
    wrong = [(qid, text, explain(text).reasons) for qid, text in PARAPHRASES
             if getattr(questions.match(text), "id", None) != qid]
    false = [(n["of"], n["text"], questions.match(n["text"]).id) for n in NEAR_MISSES if questions.match(n["text"])]
    print(f"\nparaphrases recognised: {len(PARAPHRASES) - len(wrong)}/{len(PARAPHRASES)}; "
          f"near misses matched: {len(false)}/{len(NEAR_MISSES)}")
    assert not wrong, wrong
    assert not false, false


@pytest.mark.parametrize("near", NEAR_MISSES, ids=lambda n: f"{n['of']}-{n['changed']}")
def test_a_near_miss_names_what_differs(near):
    """The explanation names the question the near miss was written from among the closest, and
    what differs from it."""
    found = explain(near["text"])
    assert found.question is None and found.how == "none"
    assert any(r.startswith(f"closest: {near['of']}: ") and ("differ" in r or "words not in" in r)
               for r in found.reasons), found.reasons


def test_every_registered_wording_is_its_own_question_and_signatures_differ():
    for q in registry().values():
        for text in (q.text, *q.aliases):
            assert questions.match(text) is q, (q.id, text)
    texts = {q.id: signature(q.text) for q in registry().values()}
    seen = {}
    for qid, sig in texts.items():
        key = (sig.words, sig.numbers, sig.charge)
        assert key not in seen, (qid, seen.get(key))
        seen[key] = qid


@pytest.mark.parametrize("same", [
    ["jets with pT > 25 GeV", "jets with pT>25GeV", "jets with p_T above 25 GeV", "25 GeV jets",
     "jets with transverse momentum greater than 25000 MeV"],
    ["jets with |eta| < 1", "jets with |η|<1", "jets with abs(eta) < 1", "jets with |eta| below 1.0",
     "jets with -1 < eta < 1"],
    ["jets not within 0.4 in Delta R of any lepton", "jets with ΔR > 0.4 to every lepton",
     "jets with deltaR > 0.4 from all leptons", "jets excluding those within dR < 0.4 of a lepton"],
    ["the missing ET", "the MET", "missing transverse energy", "ETmiss", "E_T^miss", "missing transverse momentum"],
    ["an opposite-charge muon pair", "an opposite-sign dimuon", "two oppositely charged muons", "a μ+μ− pair"],
    ["at least two jets", "two or more jets", ">= 2 jets", "≥2 jets", "2+ jets"],
])
def test_notations_give_one_signature(same):
    sigs = {signature(text) for text in same}
    assert len({(s.words, s.numbers, s.charge) for s in sigs}) == 1, [signature(t).describe() for t in same]


@pytest.mark.parametrize("a, b", [
    ("jets with |eta| < 1", "jets with |eta| < 1.5"),
    ("jets with |eta| < 1", "jets with |eta| > 1"),
    ("jets not within 0.4 in ΔR of a lepton", "jets within 0.4 in ΔR of a lepton"),
    ("at least two jets", "exactly two jets"),
    ("at least two jets", "more than two jets"),
    ("an opposite-charge muon pair", "a same-charge muon pair"),
    ("an opposite-charge muon pair", "an opposite-charge electron pair"),
    ("a same-flavour opposite-sign lepton pair", "an opposite-sign lepton pair"),
])
def test_a_changed_cut_object_or_charge_changes_the_signature(a, b):
    sa, sb = signature(a), signature(b)
    assert (sa.words, sa.numbers, sa.charge) != (sb.words, sb.numbers, sb.charge)


def test_the_id_is_the_exact_way():
    assert explain("adl-6").how == "id" and explain(" ADL-6 ").question.id == "adl-6"


def test_cli_questions_match_says_why(tmp_path):
    out = run_cli("questions", "match", "Plot the sum of pT of jets with pT > 30 GeV not within 0.4 in Delta R "
                  "of any lepton with pT > 10 GeV", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("adl-7") and "numbers [> 0.4, > 10, > 30]" in out.stdout
    out = run_cli("questions", "match", "Plot the pT of jets with |η| < 1.5", cwd=tmp_path)
    assert out.returncode == 1 and "closest: adl-3: numbers differ" in out.stdout


# --- datasets: from the question only where it names one ------------------------------------------

def _choose(question: str):
    from types import SimpleNamespace

    from vibeplot.core.ask.loop import AskOptions, choose_dataset

    any_stack = SimpleNamespace(name="any", formats=(), check_dataset=None)  # reads every format
    return choose_dataset(AskOptions(question=question, stack="any"), any_stack, warn=lambda m: None)


@pytest.mark.parametrize("case", DATASET_QUESTIONS, ids=lambda c: c["text"][:40])
def test_dataset_only_from_a_question_that_names_one(case):
    if "ambiguous" in case:
        with pytest.raises(AmbiguousDataset) as err:
            _choose(case["text"])
        assert sorted(c.dataset.name for c in err.value.candidates) == sorted(case["ambiguous"])
        return
    ds, why = _choose(case["text"])
    assert ds.name == case["dataset"], why
    if case["dataset"] == "adl-sample" and "sample" not in case["text"]:
        assert "named in the question" not in why["why"], why


def test_no_catalog_alias_reads_as_a_selection():
    from vibeplot.core.resolver import find_phrase

    for text in ["events with at least three leptons", "events with three leptons and MET", "a dimuon Z candidate",
                 "ttbar-like events with at least one lepton", "two opposite-charge electrons (Z to ee)"]:
        assert find_phrase(text) is None, text


def test_ambiguity_is_an_error_listing_the_candidates_and_how_to_choose():
    with pytest.raises(AmbiguousDataset) as err:
        _choose("Plot the dimuon mass in the Z to mu mu sample")
    message = str(err.value)
    assert err.value.exit_code == EXIT_USAGE == 2
    assert "named in the question" in message and "3 datasets fit it equally well" in message
    assert "c-filter/b-veto slice" in message and "light-flavour (CVetoBVeto) slice" in message
    assert "--dataset" in err.value.hint


def test_cli_ambiguous_dataset_stops_before_any_model_call(tmp_path):
    out = run_cli("ask", "-m", "reference", "--dataset", "Z to mu mu", "Plot the missing ET of all events",
                  cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert "mc23-zmumu-sherpa" in out.stderr and "opendata-zmumu" in out.stderr and "--dataset NAME" in out.stderr
    assert not (tmp_path / "vibeplot-runs").exists()


@pytest.mark.slow
@pytest.mark.parametrize("qid, text", [
    ("adl-6", "For events with at least 3 jets, take the trijet system with mass closest to 172.5 GeV and plot its "
              "pT and the maximum b-tag discriminant among its jets"),
    ("adl-8", "For events with at least three leptons and a same-flavor opposite-sign lepton pair, find the SFOS "
              "pair closest to 91.2 GeV and plot the transverse mass of the MET and the highest-pT lepton not in "
              "that pair"),
])
def test_issue_wordings_run_on_the_default_sample_and_get_a_verdict(tmp_path, qid, text):
    out = run_cli("ask", "-m", "reference", "--out", str(tmp_path / "runs"), text, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    manifest = read_manifest(only_run_dir(tmp_path / "runs"))
    assert manifest["question_id"] == qid and manifest["question_match"]["how"] == "wording"
    assert manifest["question_match"]["reasons"][0].startswith("same objects")
    assert manifest["dataset"]["name"] == "adl-sample"
    assert manifest["verdict"]["status"] == "correct"


# --- luminosities ------------------------------------------------------------------------------------

LUMI_SPELLINGS = ["10 fb^-1", "10 fb-1", "10 fb^{-1}", "10/fb", "10 fb⁻¹", "10 fb−1", "10 ifb", "10 inverse femtobarns",
                  "10 inverse fb", "0.01 ab^-1", "10000 pb^-1", "10000 inverse picobarns"]


@pytest.mark.parametrize("spelling", LUMI_SPELLINGS)
def test_a_luminosity_is_read_in_fb_whatever_the_spelling(spelling):
    """"fb^-1" is a unit, not the number -1: every spelling gives 10 fb^-1, and met-lumi is matched."""
    assert questions.luminosity_fb(f"normalised to {spelling}") == 10.0
    text = f"Plot the weighted MET of all events, normalised to {spelling}."
    assert _numbers_text(signature(text).numbers) == "[10]", signature(text).describe()
    assert getattr(questions.match(text), "id", None) == "met-lumi", explain(text).reasons


def test_other_luminosities_are_other_numbers():
    assert [questions.luminosity_fb(t) for t in ("1 ab^-1", "300 pb^-1", "3 fb^-1", "MET > 10 GeV", "10 fb")] == \
        [1000.0, 0.3, 3.0, None, None]
    assert questions.match("Plot the weighted MET of all events, normalised to 300 pb^-1.") is None
    found = explain("Plot the weighted MET of all events, normalised to 20 fb^-1.")
    assert found.question is None and "closest: met-lumi: numbers differ: asked [20], registered [10]" in found.reasons


def test_the_question_luminosity_goes_into_the_dataset_section():
    """ask tells the model the luminosity the question states in both units, instead of --lumi's."""
    from vibeplot.core import plugins
    from vibeplot.core.ask.loop import AskOptions, choose_dataset

    stack = plugins.stacks()["uproot_opendata"]
    ds, _ = choose_dataset(AskOptions(question="Plot the weighted MET of all events in the weighted sample, "
                                               "normalised to 300 pb^-1", lumi=5.0), stack, check=False)
    block = ds.prompt_block()
    assert "Luminosity the question asks for: L = 0.3 fb^-1 = 300 pb^-1" in block and "--lumi" not in block
