"""``NAME.png.uhi.json``: the histograms of a PNG in the UHI serialization, written by vibeplot from the
capture record (core/sandbox/uhi_json.py), read back with hist, and trusted only as vibeplot wrote it.
The end-to-end check on every stack's ADL Q1 run is in tests/test_reference_e2e.py."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import textwrap
from pathlib import Path

import hist
import jsonschema
import numpy as np
import pytest
import referencing
import uhi.io.json
import uhi.schema

from vibeplot.core.ask import validate
from vibeplot.core.ask.rundir import RunRecord
from vibeplot.core.sandbox import uhi_json
from vibeplot.core.sandbox.run import run_script

HAVE_ROOT = importlib.util.find_spec("ROOT") is not None


def schema_validator() -> jsonschema.protocols.Validator:
    """uhi's own JSON schemas (files shipped with the package), $refs resolved locally."""
    schemas = {name: json.loads((uhi.schema.histogram_file.parent / name).read_text())
               for name in ("histograms.schema.json", "histogram.schema.json")}
    registry = referencing.Registry().with_resources(
        (s["$id"], referencing.Resource.from_contents(s)) for s in schemas.values())
    return jsonschema.Draft7Validator(schemas["histograms.schema.json"], registry=registry)


VALID = schema_validator()


def load(data: bytes) -> dict[str, hist.Hist]:
    """A UHI JSON file read as the UHI documentation does, every histogram through hist."""
    raw = json.loads(data)
    VALID.validate(raw)
    return {name: hist.Hist(h) for name, h in json.loads(data, object_hook=uhi.io.json.object_hook).items()}


def record(*hists, xlabel="x [GeV]") -> dict:
    return {"image": "/attempt/p.png", "axes": [{"xlabel": xlabel, "ylabel": "Events", "title": "t",
                                                  "histograms": list(hists)}]}


def test_regular_and_variable_binning_round_trip_through_hist():
    regular = {"kind": "bars", "edges": np.linspace(0, 200, 51).tolist(),
               "values": [float(i % 7) for i in range(50)], "label": "data"}
    variable = {"kind": "stairs", "edges": [0.0, 10.0, 30.0, 100.0, 500.0], "values": [4.0, 2.5, 0.0, 1.0],
                "label": ""}
    raw = json.loads(uhi_json.dumps(record(regular, variable)))
    assert raw["0"]["axes"][0]["type"] == "regular" and raw["0"]["axes"][0]["bins"] == 50
    assert raw["1"]["axes"][0]["type"] == "variable"
    loaded = load(uhi_json.dumps(record(regular, variable)))
    for h, drawn in zip(loaded.values(), (regular, variable), strict=True):
        axis = h.axes[0]
        assert not axis.traits.underflow and not axis.traits.overflow
        np.testing.assert_allclose(axis.edges, drawn["edges"], rtol=0, atol=1e-9 * 500)
        assert h.values(flow=True).tolist() == drawn["values"]
        assert h.storage_type is hist.storage.Double  # a matplotlib figure holds no variances: none written
        assert axis.label == "x [GeV]"
    assert loaded["0"].label == "data"
    assert raw["0"]["metadata"] == {"label": "data", "kind": "bars", "image": "p.png", "title": "t",
                                    "ylabel": "Events", "axes_index": 0}


def test_nearly_even_edges_stay_variable():
    """Edges off an even spacing by more than 1e-9 of the span keep their exact values."""
    edges = np.linspace(0, 1, 11)
    edges[3] += 1e-6
    raw = json.loads(uhi_json.dumps(record({"kind": "stairs", "edges": edges.tolist(), "values": [1.0] * 10})))
    assert raw["0"]["axes"][0] == {"type": "variable", "edges": edges.tolist(), "underflow": False,
                                   "overflow": False, "circular": False, "metadata": {"label": "x [GeV]"}}


def test_th1_keeps_flow_bins_and_variances():
    th1 = {"kind": "TH1", "name": "met", "label": "MET", "edges": [0.0, 1.0, 3.0, 6.0],
           "values": [2.0, 0.5, 7.0], "variances": [2.0, 0.25, 9.0],
           "underflow": 1.5, "overflow": 4.0, "underflow_variance": 1.25, "overflow_variance": 16.0}
    raw = json.loads(uhi_json.dumps(record(th1)))
    assert raw["0"]["storage"] == {"type": "weighted", "values": [1.5, 2.0, 0.5, 7.0, 4.0],
                                   "variances": [1.25, 2.0, 0.25, 9.0, 16.0]}
    (h,) = load(uhi_json.dumps(record(th1))).values()
    assert h.axes[0].traits.underflow and h.axes[0].traits.overflow
    assert h.values().tolist() == [2.0, 0.5, 7.0] and h.variances().tolist() == [2.0, 0.25, 9.0]
    assert h.values(flow=True).tolist() == [1.5, 2.0, 0.5, 7.0, 4.0]
    assert h.variances(flow=True).tolist() == [1.25, 2.0, 0.25, 9.0, 16.0]
    assert h.axes[0].edges.tolist() == [0.0, 1.0, 3.0, 6.0]
    assert (h.name, h.label) == ("met", "MET")
    # flow contents without their variances: the contents stay, the variances are not known
    partial = {k: v for k, v in th1.items() if k != "overflow_variance"}
    (h,) = load(uhi_json.dumps(record(partial))).values()
    assert h.values(flow=True).tolist() == [1.5, 2.0, 0.5, 7.0, 4.0] and h.storage_type is hist.storage.Double


def test_what_cannot_be_a_histogram_is_left_out():
    good = {"kind": "stairs", "edges": [0, 1, 2], "values": [1, 2]}
    bad = [
        {"kind": "stairs", "edges": [0, 2, 1], "values": [1, 2]},          # not monotonic
        {"kind": "stairs", "edges": [0, 1, 2], "values": [1, 2, 3]},       # lengths disagree
        {"kind": "stairs", "edges": [0, 1, 2], "values": [1, float("nan")]},
        {"kind": "stairs", "edges": [0, 1, 1e400], "values": [1, 2]},      # inf
        {"kind": "stairs", "edges": ["a", "b"], "values": [1]},
        {"kind": "stairs", "edges": [0], "values": []},
        {"kind": "TH1", "edges": [0, 1, 2], "values": [1, 2], "variances": [1], "underflow": 0, "overflow": 0,
         "underflow_variance": 0, "overflow_variance": 0},                 # variances do not fit
        "not a dict",
    ]
    raw = json.loads(uhi_json.dumps(record(bad[0], good, *bad[1:], good)))
    assert list(raw) == ["1", "9"]  # the index of each in the record: NAME.png[i] of a verdict
    VALID.validate(raw)
    # drawn right to left: turned around with its contents
    (h,) = load(uhi_json.dumps(record({"kind": "stairs", "edges": [3, 2, 0], "values": [5, 6]}))).values()
    assert h.axes[0].edges.tolist() == [0, 2, 3] and h.values().tolist() == [6, 5]
    # a record that is no record at all gives an empty file, still a valid one
    for nonsense in ({"image": 3, "axes": 5}, {"axes": [None, {"histograms": 7}]}, {}):
        assert uhi_json.dumps(nonsense) == b"{}"


PLOT = textwrap.dedent("""
    import json, os, hist, mplhep, numpy as np, matplotlib.pyplot as plt
    rng = np.random.default_rng(1)
    x = rng.exponential(40, 500)
    fig, ax = plt.subplots()
    ax.hist(x, bins=25, range=(0, 250), weights=np.full(500, 0.5), label="weighted")
    h = hist.Hist.new.Var([0, 20, 50, 100, 250], name="x", label="MET [GeV]").Double().fill(x)
    mplhep.histplot(h, ax=ax, histtype="step", label="variable")
    ax.set_xlabel("MET [GeV]")
    fig.savefig("met.png")
    fake = {"0": {"uhi_schema": 1, "axes": [{"type": "regular", "lower": 0, "upper": 1, "bins": 1, "underflow": False,
                                             "overflow": False, "circular": False}],
                  "storage": {"type": "double", "values": [1e9]}}}
    os.makedirs("sub")
    for name in ("met.png.uhi.json", "sub/other.png.uhi.json"):  # forgeries: vibeplot's own replace them
        json.dump(fake, open(name, "w"))
""")


@pytest.fixture(scope="module")
def plotted(tmp_path_factory) -> Path:
    """An attempt directory: a script drew two histograms and wrote UHI files of its own."""
    workdir = tmp_path_factory.mktemp("attempt")
    (workdir / "plot.py").write_text(PLOT)
    result = run_script(workdir / "plot.py", workdir=workdir)
    assert result.ok, result.stderr
    return workdir


def test_script_written_uhi_files_are_replaced_by_vibeplots(plotted):
    assert not (plotted / "sub" / "other.png.uhi.json").exists()  # no PNG of that name: removed
    sidecar = json.loads((plotted / "met.png.json").read_text())
    drawn = [h for ax in sidecar["axes"] for h in ax["histograms"]]
    assert [h["kind"] for h in drawn] == ["stairs", "bars"]
    loaded = load((plotted / "met.png.uhi.json").read_bytes())
    assert list(loaded) == ["0", "1"]
    for h, d in zip(loaded.values(), drawn, strict=True):
        np.testing.assert_allclose(h.axes[0].edges, d["edges"], rtol=0, atol=1e-9 * 250)
        assert h.values().tolist() == d["values"]
        assert h.axes[0].label == "MET [GeV]"
    assert [type(h.axes[0]).__name__ for h in loaded.values()] == ["Variable", "Regular"]
    assert loaded["0"].axes[0].edges.tolist() == [0, 20, 50, 100, 250]
    # the same values in range, one of them unweighted, the other with weight 0.5 per entry
    assert set(np.mod(loaded["1"].values(), 0.5)) == {0.0} and 2 * loaded["1"].sum() == loaded["0"].sum() > 450


def run_dir_of(plotted: Path, tmp_path: Path) -> Path:
    """A finished run directory of the plot above, made by vibeplot's own RunRecord."""
    record = RunRecord(tmp_path, "Plot the MET", {"question_id": "adl-1", "dataset": {
        "name": "sample", "location": "/nowhere.root", "format": "flat-ntuple"}})
    attempt = record.attempt_dir(1)
    for name in ("met.png", "met.png.json", "met.png.uhi.json"):
        shutil.copy(plotted / name, attempt / name)
    record.finish("plot", "ok", [attempt / "met.png"])
    return record.path


def test_an_edited_or_planted_uhi_file_makes_the_run_unverifiable(plotted, tmp_path, monkeypatch):
    sidecar = json.loads((plotted / "met.png.json").read_text())
    bars = sidecar["axes"][0]["histograms"][1]
    edges, values = np.asarray(bars["edges"]), np.asarray(bars["values"])
    centres = np.repeat(0.5 * (edges[1:] + edges[:-1]), (2 * values).astype(int))  # 0.5 a fill
    stairs = sidecar["axes"][0]["histograms"][0]
    e2, v2 = np.asarray(stairs["edges"]), np.asarray(stairs["values"])
    truth = [{"label": "weighted", "values": centres.tolist(), "weights": [0.5] * len(centres)},
             {"label": "variable", "values": np.repeat(0.5 * (e2[1:] + e2[:-1]), v2.astype(int)).tolist(),
              "weights": None}]
    monkeypatch.setattr(validate, "truth_values_for", lambda *a: truth)

    run = run_dir_of(plotted, tmp_path)
    manifest = json.loads((run / "run.json").read_text())
    exported = (run / "met.png.uhi.json").read_bytes()
    assert manifest["plot_uhi_records"] == {"met.png": hashlib.sha256(exported).hexdigest()}
    assert validate.validate_run(run).status == "correct"

    edited = json.loads(exported)
    edited["0"]["storage"]["values"][0] += 1
    (run / "met.png.uhi.json").write_text(json.dumps(edited))
    verdict = validate.validate_run(run)
    assert verdict.status == "unverifiable" and "met.png.uhi.json" in verdict.diagnosis[0], verdict

    (run / "met.png.uhi.json").unlink()  # gone is not as vibeplot wrote it either
    assert validate.validate_run(run).status == "unverifiable"

    (run / "met.png.uhi.json").write_bytes(exported)  # put back: trusted again
    assert validate.validate_run(run).status == "correct"

    # a run whose record has no UHI hash for the plot: a file there was not written by vibeplot
    manifest["plot_uhi_records"] = {}
    (run / "run.json").write_text(json.dumps(manifest))
    assert validate.validate_run(run).status == "unverifiable"
    # a run made before UHI files existed: nothing to check
    del manifest["plot_uhi_records"]
    (run / "run.json").write_text(json.dumps(manifest))
    assert validate.validate_run(run).status == "correct"


ROOT_PLOT = textwrap.dedent("""
    import ROOT
    ROOT.gROOT.SetBatch(True)
    fixed = ROOT.TH1D("fixed", "Fixed;m [GeV];Events", 4, 0.0, 8.0)
    fixed.Sumw2()
    for x, w in [(-1.0, 2.0), (-3.0, 0.5), (0.5, 3.0), (0.7, 1.0), (5.0, 1.5), (8.0, 0.25), (20.0, 2.0)]:
        fixed.Fill(x, w)
    edges = ROOT.std.vector("double")([0.0, 1.0, 3.0, 10.0])
    var = ROOT.TH1F("var", "Variable;m [GeV];Events", 3, edges.data())
    for x in [-2.0, 0.5, 2.0, 2.5, 9.0, 11.0, 12.0]:
        var.Fill(x)
    c = ROOT.TCanvas()
    c.Divide(2, 1)
    c.cd(1); fixed.Draw("HIST")
    c.cd(2); var.Draw("E")
    c.SaveAs("m.png")
""")


@pytest.mark.skipif(not HAVE_ROOT, reason="ROOT (the rdataframe extra) is not installed")
def test_root_th1_flow_and_variances_survive(tmp_path):
    (tmp_path / "m.py").write_text(ROOT_PLOT)
    result = run_script(tmp_path / "m.py", workdir=tmp_path)
    assert result.ok, result.stderr
    fixed, var = load((tmp_path / "m.png.uhi.json").read_bytes()).values()
    assert fixed.name == "fixed" and type(fixed.axes[0]).__name__ == "Regular" and fixed.axes[0].label == "m [GeV]"
    assert fixed.axes[0].edges.tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]
    # underflow 2 + 0.5, overflow 0.25 (x = 8 is the upper edge) + 2; Sumw2: variances are sums of w**2
    assert fixed.values(flow=True).tolist() == [2.5, 4.0, 0.0, 1.5, 0.0, 2.25]
    assert fixed.variances(flow=True).tolist() == [4.25, 10.0, 0.0, 2.25, 0.0, 4.0625]
    assert type(var.axes[0]).__name__ == "Variable" and var.axes[0].edges.tolist() == [0.0, 1.0, 3.0, 10.0]
    # unweighted without Sumw2: ROOT's errors are sqrt(content), so the variances equal the contents
    assert var.values(flow=True).tolist() == [1.0, 1.0, 2.0, 1.0, 2.0]
    assert var.variances(flow=True).tolist() == [1.0, 1.0, 2.0, 1.0, 2.0]
