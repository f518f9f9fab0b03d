"""Cross-check the uproot_opendata reference solutions (ADL benchmarks 1-8 and the extras).

Each reference script is run twice on a small generated sample:

* as a standalone program (subprocess, MPLBACKEND=Agg, its own working directory) to
  check that it runs and writes the expected PNG files;
* in-process with ``runpy`` while ``hist.Hist.fill`` is wrapped to record what gets
  filled.  The recorded values and the resulting histogram counts are compared with
  values recomputed here by an independent plain-Python event loop (``math`` only).
"""

import itertools
import math
import os
import pathlib
import runpy
import subprocess
import sys

import hist
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import uproot  # noqa: E402

from vibeplot.datasets.sample import generate_sample  # noqa: E402

REFERENCES = pathlib.Path(__file__).resolve().parents[1] / "stacks" / "uproot_opendata" / "references"
SERVICEX_REFERENCES = REFERENCES.parents[1] / "servicex_awkward" / "references"
PLACEHOLDER = "{{dataset}}"
N_EVENTS = 3000
PNGS = {
    "adl1": ["met.png"],
    "adl2": ["jet_pt.png"],
    "adl3": ["jet_pt_eta1.png"],
    "adl4": ["met_2jets.png"],
    "adl5": ["met_zmumu.png"],
    "adl6": ["trijet_pt.png", "trijet_maxbtag.png"],
    "adl7": ["ht_cleaned.png"],
    "adl8": ["mt_lep_met.png"],
    "njets": ["n_jets.png"],
    "leadjetpt": ["leading_jet_pt.png"],
    "ssmumu": ["ss_mumu_mass.png"],
    "met0jet": ["met_0jet.png"],
    "drjj": ["dr_leading_jets.png"],
    "elept20k": ["electron_pt.png"],
}
#: references of the weighted questions: drawn from the embedded weighted sample
WEIGHTED_PNGS = {"metweighted": ["met_weighted.png"], "metlumi": ["met_lumi.png"]}
FIRST_EVENTS = 2000  # elept20k's "first 20000 events", scaled to this small sample (patched in the script)


# --- independent plain-Python recomputation -------------------------------------------


def four_vector(pt, eta, phi, mass):
    px, py, pz = pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(eta)
    return (px, py, pz, math.sqrt(px * px + py * py + pz * pz + mass * mass))


def summed(*vectors):
    return tuple(sum(component) for component in zip(*vectors))


def inv_mass(v):
    return math.sqrt(max(v[3] ** 2 - v[0] ** 2 - v[1] ** 2 - v[2] ** 2, 0.0))


def delta_r(eta1, phi1, eta2, phi2):
    dphi = (phi1 - phi2 + math.pi) % (2 * math.pi) - math.pi
    return math.hypot(eta1 - eta2, dphi)


def objects(ev, prefix, fields):
    """List of per-object dicts of Python floats/ints for one event."""
    columns = [ev[f"{prefix}_{f}"].tolist() for f in fields]
    return [dict(zip(fields, values)) for values in zip(*columns)]


def loop_values(events):
    """Per reference script: the list of value arrays it should fill, in fill order."""
    out = {name: [[] for _ in pngs] for name, pngs in PNGS.items()}
    kin = ("pt", "eta", "phi", "mass")
    for index, ev in enumerate(events):
        met, met_phi = float(ev["MET_pt"]), float(ev["MET_phi"])
        jets = objects(ev, "Jet", kin + ("btag",))
        muons = objects(ev, "Muon", kin + ("charge",))
        electrons = objects(ev, "Electron", kin + ("charge",))

        out["njets"][0].append(len(jets))
        if jets:
            out["leadjetpt"][0].append(max(j["pt"] for j in jets))
        else:
            out["met0jet"][0].append(met)
        if len(jets) >= 2:
            j1, j2 = sorted(jets, key=lambda j: -j["pt"])[:2]
            out["drjj"][0].append(delta_r(j1["eta"], j1["phi"], j2["eta"], j2["phi"]))
        for m1, m2 in itertools.combinations(muons, 2):
            if m1["charge"] == m2["charge"]:
                vs = [four_vector(*[m[k] for k in kin]) for m in (m1, m2)]
                out["ssmumu"][0].append(inv_mass(summed(*vs)))
        if index < FIRST_EVENTS:
            out["elept20k"][0].extend(e["pt"] for e in electrons if e["pt"] > 25)

        out["adl1"][0].append(met)
        out["adl2"][0].extend(j["pt"] for j in jets)
        out["adl3"][0].extend(j["pt"] for j in jets if abs(j["eta"]) < 1)
        if sum(j["pt"] > 40 for j in jets) >= 2:
            out["adl4"][0].append(met)

        for m1, m2 in itertools.combinations(muons, 2):
            mass = inv_mass(summed(four_vector(*[m1[k] for k in kin]), four_vector(*[m2[k] for k in kin])))
            if m1["charge"] != m2["charge"] and 60 <= mass <= 120:
                out["adl5"][0].append(met)
                break

        if len(jets) >= 3:
            best = min(
                itertools.combinations(jets, 3),
                key=lambda tri: abs(inv_mass(summed(*(four_vector(*[j[k] for k in kin]) for j in tri))) - 172.5),
            )
            p = summed(*(four_vector(*[j[k] for k in kin]) for j in best))
            out["adl6"][0].append(math.hypot(p[0], p[1]))
            out["adl6"][1].append(max(j["btag"] for j in best))

        leptons10 = [lep for lep in muons + electrons if lep["pt"] > 10]
        out["adl7"][0].append(sum(
            j["pt"] for j in jets
            if j["pt"] > 30 and all(delta_r(j["eta"], j["phi"], lep["eta"], lep["phi"]) >= 0.4 for lep in leptons10)
        ))

        leptons = [dict(lep, flavour="mu") for lep in muons] + [dict(lep, flavour="e") for lep in electrons]
        if len(leptons) >= 3:
            sfos = [
                (i, k) for i, k in itertools.combinations(range(len(leptons)), 2)
                if leptons[i]["flavour"] == leptons[k]["flavour"] and leptons[i]["charge"] != leptons[k]["charge"]
            ]
            if sfos:
                def z_distance(pair):
                    vs = [four_vector(*[leptons[i][k] for k in kin]) for i in pair]
                    return abs(inv_mass(summed(*vs)) - 91.2)

                pair = min(sfos, key=z_distance)
                third = max((lep for i, lep in enumerate(leptons) if i not in pair), key=lambda lep: lep["pt"])
                out["adl8"][0].append(math.sqrt(2 * third["pt"] * met * (1 - math.cos(third["phi"] - met_phi))))
    return out


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return generate_sample(tmp_path_factory.mktemp("data") / "sample.root", n_events=N_EVENTS)


@pytest.fixture(scope="module")
def expected(sample):
    with uproot.open(sample) as f:
        columns = f["Events"].arrays(library="np")
    events = [{name: values[i] for name, values in columns.items()} for i in range(N_EVENTS)]
    return loop_values(events)


def script_source(name, sample):
    source = (REFERENCES / f"{name}.py").read_text()
    if name == "elept20k":
        assert "entry_stop=20000" in source
        source = source.replace("entry_stop=20000", f"entry_stop={FIRST_EVENTS}")
    return source.replace(PLACEHOLDER, str(sample))


@pytest.fixture(scope="module")
def standalone_runs(sample, tmp_path_factory):
    """Start every reference as its own process at once; results collected on demand."""
    env = dict(os.environ, MPLBACKEND="Agg")
    procs = {}
    for name in PNGS:
        workdir = tmp_path_factory.mktemp(name)
        (workdir / "script.py").write_text(script_source(name, sample))
        procs[name] = (workdir, subprocess.Popen(
            [sys.executable, "script.py"], cwd=workdir, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        ))
    yield procs
    for _, proc in procs.values():
        if proc.poll() is None:
            proc.kill()


# --- tests ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PNGS))
def test_reference_is_well_formed(name):
    source = (REFERENCES / f"{name}.py").read_text()
    assert source.count(PLACEHOLDER) == 1
    assert f'INPUT_FILE = "{PLACEHOLDER}"' in source.splitlines()
    assert "plt.show" not in source
    # clean styling: an experiment label where a title would be, laid out to fit (checked drawn below)
    assert "hep.label.exp_label(" in source and "fig.tight_layout()" in source and "set_title" not in source


@pytest.mark.parametrize("name", list(PNGS))
def test_servicex_reference_draws_the_same(name):
    """servicex_awkward's references draw exactly as these do, so the figure checks here cover them."""
    def drawing(path):
        source = path.read_text()
        return source[source.index('hep.style.use("CMS")'):]

    assert drawing(SERVICEX_REFERENCES / f"{name}.py") == drawing(REFERENCES / f"{name}.py")


@pytest.mark.slow  # every reference run on the sample (and an event loop in pure Python)
@pytest.mark.parametrize("name", list(PNGS))
def test_reference_runs_standalone(name, standalone_runs):
    workdir, proc = standalone_runs[name]
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, output
    for png in PNGS[name]:
        assert (workdir / png).stat().st_size > 1000, png


@pytest.mark.slow  # every reference run on the sample (and an event loop in pure Python)
@pytest.mark.parametrize("name", list(PNGS))
def test_reference_matches_event_loop(name, sample, expected, tmp_path, monkeypatch):
    fills = []
    original_fill = hist.Hist.fill

    def recording_fill(self, *args, **kwargs):
        values = list(args) + [v for k, v in kwargs.items() if k not in ("weight", "sample", "threads")]
        fills.append((self, np.asarray(values[0], dtype=np.float64)))
        return original_fill(self, *args, **kwargs)

    monkeypatch.setattr(hist.Hist, "fill", recording_fill)
    monkeypatch.chdir(tmp_path)
    script = tmp_path / f"{name}.py"
    script.write_text(script_source(name, sample))
    try:
        runpy.run_path(str(script), run_name="__main__")
    finally:
        plt.close("all")

    assert len(fills) == len(PNGS[name])
    for (h, got), want in zip(fills, expected[name]):
        want = np.asarray(want, dtype=np.float64)
        assert len(want) > 0
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-3)
        # Bin the loop values independently (half-open bins, under/overflow at the ends).
        edges = h.axes[0].edges
        index = np.searchsorted(edges, want, side="right")
        assert np.array_equal(h.values(flow=True), np.bincount(index, minlength=len(edges) + 1))
    for png in PNGS[name]:
        assert (tmp_path / png).is_file()


@pytest.fixture(scope="module")
def full_sample(tmp_path_factory):
    """The embedded sample's default size: bin contents reach five digits (ADL 1, jet multiplicity)."""
    return generate_sample(tmp_path_factory.mktemp("full") / "sample.root", n_events=100_000)


@pytest.mark.slow  # every reference drawn from 100k events, in-process
@pytest.mark.parametrize("name", list(PNGS) + list(WEIGHTED_PNGS))
def test_reference_figure_fits_its_canvas(name, full_sample, tmp_path, monkeypatch, request):
    """Everything a reference's saved figure draws lies inside the canvas (with five-digit tick
    labels the y label once stuck out to the left and was cut off), under an experiment label
    (mplhep's) and no title."""
    from matplotlib.figure import Figure
    from mplhep.label import ExpLabel

    saved, original_savefig = [], Figure.savefig

    def savefig(self, fname, *args, **kwargs):
        result = original_savefig(self, fname, *args, **kwargs)
        drawn = self.get_tightbbox(self.canvas.get_renderer())  # inches, like bbox_inches
        fits = kwargs.get("bbox_inches") == "tight" or (  # "tight": the image is cut to fit
            drawn.x0 >= -1e-6 and drawn.y0 >= -1e-6 and drawn.x1 <= self.bbox_inches.x1 + 1e-6
            and drawn.y1 <= self.bbox_inches.y1 + 1e-6)
        labelled = [any(isinstance(t, ExpLabel) for t in ax.texts) for ax in self.axes]
        titles = [ax.get_title(loc) for ax in self.axes for loc in ("left", "center", "right")]
        bounds = [round(float(v), 3) for v in drawn.bounds]
        saved.append((pathlib.Path(fname).name, fits, bounds, labelled, [t for t in titles if t]))
        return result

    monkeypatch.setattr(Figure, "savefig", savefig)
    monkeypatch.chdir(tmp_path)
    script = tmp_path / f"{name}.py"
    data = full_sample
    if name in WEIGHTED_PNGS:
        from vibeplot.datasets import embedded

        request.getfixturevalue("isolated_env")
        data = embedded.ensure_sample(weighted=True)
    script.write_text((REFERENCES / f"{name}.py").read_text().replace(PLACEHOLDER, str(data)))
    try:
        runpy.run_path(str(script), run_name="__main__")
    finally:
        plt.close("all")

    assert [png for png, *_ in saved] == {**PNGS, **WEIGHTED_PNGS}[name]
    for png, fits, bounds, labelled, titles in saved:
        assert fits, f"{png}: drawn over the canvas edge: {bounds} (x0, y0, width, height in inches)"
        assert labelled and all(labelled), f"{png}: no experiment label"
        assert not titles, f"{png}: a title where the experiment label goes: {titles}"
