"""Validation against truth values: ADL references run with the values hook, small wrong
and right candidate scripts run with the capture hook, verdicts and diagnoses checked."""

from __future__ import annotations

import json
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from vibeplot.core.questions import registry
from vibeplot.datasets.sample import generate_sample
from vibeplot.core.sandbox.run import Grant, run_script
from vibeplot.core.ask.validate import load_sidecars, record_truth, tolerance, validate

REFS = Path(__file__).resolve().parents[1] / "stacks" / "uproot_opendata" / "references"
QUESTIONS = [1, 3, 4, 5, 6]

_HEAD = """\
import awkward as ak
import hist
import matplotlib.pyplot as plt
import mplhep as hep
import numpy as np
import uproot
import vector
vector.register_awkward()
events = uproot.open("DATA")["Events"].arrays()
"""

# name -> (reference question, script body after _HEAD)
CANDIDATES = {
    "met_mev": (1, """
        h = hist.Hist.new.Reg(50, 0, 200000, label="MET [MeV]").Double()
        h.fill(events.MET_pt * 1000)
        h.plot(histtype="step")
        plt.savefig("met.png")
    """),
    "q5_no_charge": (5, """
        mu = ak.zip({"pt": events.Muon_pt, "eta": events.Muon_eta, "phi": events.Muon_phi,
                     "mass": events.Muon_mass}, with_name="Momentum4D")
        pairs = ak.combinations(mu, 2, fields=["a", "b"])
        m = (pairs.a + pairs.b).mass
        sel = events[ak.any((m >= 60) & (m <= 120), axis=1)]
        plt.hist(np.asarray(sel.MET_pt), bins=50, range=(0, 200))
        plt.savefig("met_z.png")
    """),
    "q4_one_jet": (4, """
        sel = events[ak.sum(events.Jet_pt > 40, axis=1) >= 1]
        plt.hist(np.asarray(sel.MET_pt), bins=40, range=(0, 200))
        plt.savefig("met_jets.png")
    """),
    "q3_eta2": (3, """
        pt = ak.flatten(events.Jet_pt[abs(events.Jet_eta) < 2])
        counts, edges = np.histogram(np.asarray(pt), bins=60, range=(0, 300))
        plt.stairs(counts, edges)
        plt.savefig("jet_pt.png")
    """),
    "q6_highest_pt": (6, """
        ev = events[ak.num(events.Jet_pt) >= 3]
        jets = ak.zip({"pt": ev.Jet_pt, "eta": ev.Jet_eta, "phi": ev.Jet_phi, "mass": ev.Jet_mass,
                       "btag": ev.Jet_btag}, with_name="Momentum4D")
        tri = ak.combinations(jets, 3, fields=["a", "b", "c"])
        p4 = tri.a + tri.b + tri.c
        best = ak.argmax(p4.pt, axis=1, keepdims=True)
        btag = np.maximum(np.maximum(tri.a.btag, tri.b.btag), tri.c.btag)
        for name, vals, lo, hi in [("pt", p4[best].pt, 0, 400), ("btag", btag[best], 0, 1)]:
            plt.figure()
            plt.hist(np.asarray(ak.flatten(vals)), bins=50, range=(lo, hi))
            plt.savefig(f"trijet_{name}.png")
    """),
    "q1_extra": (1, """
        plt.hist(np.asarray(events.MET_pt), bins=50, range=(0, 200), alpha=0.5, label="MET")
        plt.hist(np.asarray(ak.flatten(events.Jet_pt)), bins=50, range=(0, 200), alpha=0.5, label="jets")
        plt.savefig("met.png")
    """),
    "q1_plt_hist_37": (1, """
        plt.hist(np.asarray(events.MET_pt), bins=37, range=(3, 517))
        plt.xlabel("MET [GeV]")
        plt.savefig("met.png")
    """),
    "q1_hist_mplhep_37": (1, """
        h = hist.Hist.new.Reg(37, 3, 517, name="met", label="MET [GeV]").Double()
        h.fill(met=events.MET_pt)
        hep.style.use("ATLAS")
        hep.histplot(h, histtype="fill")
        plt.savefig("met.png")
    """),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Truth values per question and candidate sidecars per candidate (run in parallel)."""
    base = tmp_path_factory.mktemp("validate")
    data = generate_sample(base / "sample.root", n_events=20000)

    def reference(q):
        return q, record_truth(REFS / f"adl{q}.py", str(data), base / f"ref{q}")

    # all candidates in one process (one import overhead), each in its own directory
    parts = [_HEAD.replace("DATA", str(data)), "import os\n"]
    for name, (_q, body) in CANDIDATES.items():
        parts.append(f"\ndef c_{name}():\n" + textwrap.indent(textwrap.dedent(body), "    "))
    parts.append(f"""
for name in {list(CANDIDATES)!r}:
    os.makedirs(name)
    os.chdir(name)
    plt.figure()
    globals()["c_" + name]()
    plt.close("all")
    os.chdir("..")
""")
    work = base / "candidates"
    work.mkdir()
    (work / "candidates.py").write_text("".join(parts))

    def mistake(q):
        question = registry()[f"adl-{q}"]
        return q, [(description, record_truth(REFS / "mistakes" / script, str(data), base / f"mistake{q}"))
                   for script, description in question.mistakes]

    with ThreadPoolExecutor(max_workers=3) as pool:
        refs, mistakes = pool.map(reference, QUESTIONS), pool.map(mistake, [6])
        result = run_script(work / "candidates.py", workdir=work, grant=Grant(read_only=(data,)))
        assert result.ok, result.stderr
        return dict(refs), {name: load_sidecars(work / name) for name in CANDIDATES}, dict(mistakes)


def verdict(runs, name):
    refs, cands, _ = runs
    return validate(cands[name], refs[CANDIDATES[name][0]])


def test_truth_values_recorded(runs):
    refs, _, _ = runs
    assert all(len(refs[q]) == (2 if q == 6 else 1) for q in QUESTIONS)
    assert len(refs[1][0]["values"]) == 20000 and refs[1][0]["weights"] is None
    assert refs[1][0]["label"] == r"$E_T^{miss}$ [GeV]" and len(refs[1][0]["edges"]) == 51


@pytest.mark.parametrize("name", ["q1_plt_hist_37", "q1_hist_mplhep_37"])
def test_unusual_binning_is_correct(runs, name):
    v = verdict(runs, name)
    assert v.status == "correct", v.diagnosis
    assert any(m.ok for m in v.matches)


def test_met_in_mev(runs):
    v = verdict(runs, "met_mev")
    assert v.status == "wrong" and len(v.diagnosis) == 1
    assert "scaled by 1000" in v.diagnosis[0]


@pytest.mark.parametrize("name", ["q5_no_charge", "q4_one_jet", "q3_eta2"])
def test_selection_too_loose(runs, name):
    v = verdict(runs, name)
    assert v.status == "wrong" and len(v.diagnosis) == 1, v.diagnosis
    assert "too loose by" in v.diagnosis[0]
    n = int(v.diagnosis[0].split("too loose by ")[1].split()[0])
    assert n > 0


def test_q6_wrong_trijet(runs):
    refs, cands, mistakes = runs
    # with the registry's known mistakes the diagnosis names the wrong choice, for both plots
    v = validate(cands["q6_highest_pt"], refs[6], mistakes[6])
    assert v.status == "wrong" and len(v.diagnosis) == 2, v.diagnosis
    assert all("known mistake: the trijet with the highest pT was taken" in d for d in v.diagnosis)
    # without them the generic rule still says, for the b-tag plot (all entries in range), that the
    # selection is right but the object is not; the pT plot loses entries to overflow: counts differ
    v = verdict(runs, "q6_highest_pt")
    assert v.status == "wrong" and len(v.diagnosis) == 2, v.diagnosis
    pt, btag = sorted(v.diagnosis, key=lambda d: "btag" in d)
    assert "counts differ" in pt
    assert "same number of entries" in btag and "another object or quantity" in btag
    # a known mistake never turns a right answer wrong, nor a loose selection into a "known mistake"
    assert validate(cands["q1_plt_hist_37"], refs[1], mistakes[6]).status == "correct"
    assert "too loose by" in validate(cands["q4_one_jet"], refs[4], mistakes[6]).diagnosis[0]


def test_extra_plot(runs):
    v = verdict(runs, "q1_extra")
    assert v.status == "wrong"
    assert v.diagnosis == ["extra plot: met.png[1] matches no reference quantity"]


def test_missing_plot_and_unverifiable(runs):
    refs, cands, _ = runs
    # a correct MET plot, but the reference also histograms the Q6 b-tag: that plot is missing
    v = validate(cands["q1_plt_hist_37"], refs[1] + refs[6][1:])
    assert v.status == "wrong" and any(d.startswith("missing plot") for d in v.diagnosis)
    assert validate([{"image": "line.png", "axes": []}], refs[1]).status == "unverifiable"
    assert validate(cands["q1_plt_hist_37"], []).status == "unverifiable"


def test_rules_in_isolation():
    """Tolerance, flow ignored, weights, shift and tight selections on synthetic values."""
    import numpy as np

    rng = np.random.default_rng(1)
    vals = rng.normal(50, 10, 5000)
    edges = np.linspace(30, 70, 21)  # narrower than the data: the rest is flow, ignored

    def side(values, weights=None, e=edges):
        counts = np.histogram(values, bins=e, weights=weights)[0]
        return [{"image": "x.png", "axes": [{"histograms": [{"kind": "stairs", "edges": list(e),
                                                              "values": list(map(float, counts))}]}]}]

    ref = [{"label": "x", "values": list(vals), "weights": None}]
    assert validate(side(vals), ref).status == "correct"
    assert tolerance(5000) == 1.0 and tolerance(50000) == 5.0
    one_off = side(vals)
    one_off[0]["axes"][0]["histograms"][0]["values"][3] += 1  # one entry more: within tolerance
    assert validate(one_off, ref).status == "correct"
    assert "too tight by" in validate(side(vals[:4000]), ref).diagnosis[0]
    assert "shifted by" in validate(side(vals + 3.0), ref).diagnosis[0]
    weighted = [{"label": "x", "values": list(vals), "weights": list(rng.uniform(0.5, 1.5, 5000))}]
    assert "weighted vs unweighted" in validate(side(vals), weighted).diagnosis[0]
    assert "weighted vs unweighted" in validate(side(vals, weighted[0]["weights"]), ref).diagnosis[0]
    assert "counts differ" in validate(side(rng.uniform(30, 70, 5000)), ref).diagnosis[0]
    assert json.loads(json.dumps(ref))  # records are plain JSON


def test_docstring_examples():
    import doctest

    import vibeplot.core.ask.validate as module

    result = doctest.testmod(module)
    assert result.failed == 0 and result.attempted > 0


def test_values_hook_sources(tmp_path):
    """plt.hist (one record per dataset), bare numpy.histogram, repeated hist fills concatenated;
    numpy.histogram inside plt.hist is not recorded twice."""
    script = tmp_path / "s.py"
    script.write_text(textwrap.dedent("""
        import hist, numpy as np, matplotlib.pyplot as plt
        plt.hist([[1.0, 2.0], [3.0]], bins=[0, 2, 4], weights=[[1.0, 2.0], [0.5]], label=["a", "b"])
        np.histogram([5.0, 6.0, 7.0], bins=3)
        h = hist.Hist.new.Reg(4, 0, 4, name="x", label="X").Double()
        h.fill(x=[1.0]); h.fill(x=np.array([2.0, 3.0]))
        plt.savefig("p.png")
    """))
    out = tmp_path / "values.json"
    result = run_script(script, workdir=tmp_path, startup=["vibeplot.core.sandbox.child.values"],
                        extra_env={"VIBEPLOT_RECORD_VALUES": str(out)})
    assert result.ok, result.stderr
    recs = json.loads(out.read_text())
    assert [(r["source"], r["label"], r["values"], r["weights"]) for r in recs] == [
        ("Axes.hist", "a", [1.0, 2.0], [1.0, 2.0]), ("Axes.hist", "b", [3.0], [0.5]),
        ("numpy.histogram", "", [5.0, 6.0, 7.0], None), ("hist.fill", "X", [1.0, 2.0, 3.0], None)]
