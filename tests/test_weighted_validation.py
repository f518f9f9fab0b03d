"""Validation of the weighted questions (met-weighted, met-lumi) on the embedded weighted sample:
the uproot references record weighted truth values; scripted wrong answers (unweighted, not
normalised, another luminosity, Σw of the file read instead of the whole sample's) are named by
the validator, a right one is correct."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from vibeplot.core.ask.validate import known_scales, load_sidecars, record_truth, validate
from vibeplot.core.questions import registry
from vibeplot.core.sandbox.run import Grant, run_script
from vibeplot.datasets import catalog, embedded

pytestmark = pytest.mark.slow  # about 13 s: generating the sample and five recorded runs

REFS = Path(__file__).resolve().parents[1] / "stacks" / "uproot_opendata" / "references"

_HEAD = """\
import hist
import matplotlib.pyplot as plt
import numpy as np
import uproot
events = uproot.open("DATA")["Events"].arrays(["MET_pt", "genWeight"])
w = np.asarray(events.genWeight, dtype=np.float64)
"""


def _norm(lumi_fb: float) -> str:
    e = catalog.entry(embedded.WEIGHTED_NAME)
    return repr(e["cross_section_pb"] * e["filter_efficiency"] * e["k_factor"] * lumi_fb * 1000 / e["sum_of_weights"])


# name -> (question, how the candidate weights each event)
CANDIDATES = {
    "weighted_right": ("met-weighted", "w"),
    "weighted_unweighted": ("met-weighted", None),
    "lumi_right": ("met-lumi", f"w * {_norm(10)}"),
    "lumi_unweighted": ("met-lumi", None),
    "lumi_not_normalised": ("met-lumi", "w"),
    "lumi_wrong_luminosity": ("met-lumi", f"w * {_norm(3)}"),
    # Σw over the events read (the first of the sample's files) instead of the catalog's whole-sample Σw
    "lumi_sumw_delivered": ("met-lumi", f"w * {_norm(10)} * {catalog.entry(embedded.WEIGHTED_NAME)['sum_of_weights']!r} / w.sum()"),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, isolated_env):
    data = embedded.ensure_sample(weighted=True)
    base = tmp_path_factory.mktemp("weighted-validation")
    parts = [_HEAD.replace("DATA", str(data)), "import os\n"]
    for name, (_q, weight) in CANDIDATES.items():
        fill = "h.fill(events.MET_pt" + (f", weight={weight})" if weight else ")")
        parts.append(textwrap.dedent(f"""
            os.makedirs("{name}")
            os.chdir("{name}")
            h = hist.Hist.new.Reg(25, 0, 100, label="MET [GeV]").Weight()
            {fill}
            fig, ax = plt.subplots()
            h.plot(ax=ax, histtype="step")
            fig.savefig("met.png")
            plt.close("all")
            os.chdir("..")
        """))
    work = base / "candidates"
    work.mkdir()
    (work / "candidates.py").write_text("".join(parts))
    result = run_script(work / "candidates.py", workdir=work, grant=Grant(read_only=(data,)))
    assert result.ok, result.stderr
    truth, mistakes = {}, {}
    for qid in ("met-weighted", "met-lumi"):
        q = registry()[qid]
        truth[qid] = record_truth(REFS / f"{qid.replace('-', '')}.py", str(data), base / qid)
        mistakes[qid] = [(d, record_truth(REFS / "mistakes" / s, str(data), base / f"{qid}-{s}")) for s, d in q.mistakes]
    return truth, mistakes, {name: load_sidecars(work / name) for name in CANDIDATES}


def verdict(runs, name, with_mistakes=True):
    truth, mistakes, cands = runs
    qid = CANDIDATES[name][0]
    scales = known_scales(embedded.weighted_dataset().as_dict())  # as validate_run reads run.json's dataset
    return validate(cands[name], truth[qid], mistakes[qid] if with_mistakes else (), scales)


def test_truth_values_are_weighted(runs):
    truth, _, _ = runs
    for qid in ("met-weighted", "met-lumi"):
        (q,) = truth[qid]
        # the location is the first of the sample's files: its events only
        assert len(q["values"]) == len(q["weights"]) == embedded.WEIGHTED_FILE_EVENTS[0] < embedded.WEIGHTED_EVENTS
        assert any(w < 0 for w in q["weights"])


@pytest.mark.parametrize("name", ["weighted_right", "lumi_right"])
def test_right_weighting_is_correct(runs, name):
    v = verdict(runs, name)
    assert v.status == "correct", v.diagnosis


@pytest.mark.parametrize("name, expected, generic", [
    ("weighted_unweighted", "known mistake: unweighted", "weighted vs unweighted"),
    ("lumi_unweighted", "known mistake: unweighted", "weighted vs unweighted"),
    ("lumi_not_normalised", "known mistake: weights not normalised", "wrong luminosity or normalisation"),
    ("lumi_wrong_luminosity", "wrong luminosity or normalisation: candidate = 0.3 x reference",
     "wrong luminosity or normalisation: candidate = 0.3 x reference"),
    ("lumi_sumw_delivered", "known mistake: Σw from the delivered files only",
     "Σw from the delivered files only: normalised with the sum of weights of the files read (6944602.3), "
     "not of the whole sample (17519990): candidate = 2.523 x reference"),
])
def test_wrong_weighting_is_named(runs, name, expected, generic):
    v = verdict(runs, name)
    assert v.status == "wrong" and len(v.diagnosis) == 1 and expected in v.diagnosis[0], v.diagnosis
    # without the registry's known mistakes the generic rules still say what is wrong
    v = verdict(runs, name, with_mistakes=False)
    assert v.status == "wrong" and len(v.diagnosis) == 1 and generic in v.diagnosis[0], v.diagnosis


_ROOT_CANDIDATES = """\
import ROOT
ROOT.gROOT.SetBatch(True)
df = ROOT.RDataFrame("Events", "DATA")
with_sumw2 = df.Histo1D(("a", ";MET [GeV];Events", 25, 0, 100), "MET_pt", "genWeight").GetValue()
without = with_sumw2.Clone("b")
without.Sumw2(False)  # a weighted fill drawn without its sums of squared weights: ROOT's errors become sqrt(content)
for name, h in (("root_sumw2", with_sumw2), ("root_no_sumw2", without)):
    c = ROOT.TCanvas("c" + name, "", 600, 400)
    h.Draw("HIST")
    c.SaveAs(name + ".png")
"""


def test_variances_are_compared_with_the_sums_of_squared_weights(runs, tmp_path):
    """A ROOT TH1 carries variances: with Sumw2 they are the reference's Σw² per bin (no note); a
    weighted fill without Sumw2 has its contents as variances, which a note names (still correct)."""
    pytest.importorskip("ROOT")
    from vibeplot.core.ask.validate import verdict_record

    truth, _, _ = runs
    data = embedded.ensure_sample(weighted=True)
    (tmp_path / "cands.py").write_text(_ROOT_CANDIDATES.replace("DATA", str(data)))
    result = run_script(tmp_path / "cands.py", workdir=tmp_path, grant=Grant(read_only=(data,)))
    assert result.ok, result.stderr
    sidecars = {s["image"].rsplit("/", 1)[-1]: s for s in load_sidecars(tmp_path)}
    good = validate([sidecars["root_sumw2.png"]], truth["met-weighted"])
    assert good.status == "correct" and good.notes == [] and "notes" not in verdict_record(good), good
    bad = validate([sidecars["root_no_sumw2.png"]], truth["met-weighted"])
    assert bad.status == "correct", bad.diagnosis
    assert bad.notes == ["root_no_sumw2.png[0]: the variances are the bin contents (a weighted fill without Sumw2), "
                         "not the sums of squared weights (the contents are right)"]
    assert verdict_record(bad)["notes"] == bad.notes
