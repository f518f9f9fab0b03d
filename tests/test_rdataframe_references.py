"""The rdataframe stack's reference solutions (ADL benchmarks 1-8) against the uproot_opendata ones.

* Direct mode (``references/direct``): every uproot_opendata reference and every rdataframe
  direct reference runs on one 20k-event generated sample through vibeplot's sandbox
  (:func:`run_script`).  Its capture hook writes a ``NAME.png.json`` sidecar for every saved
  matplotlib figure and every saved ROOT canvas; the histograms in them are compared bin for
  bin (same edges, same contents; under/overflow are not drawn and not compared).
* ServiceX mode (``references/``): every script runs once against the local ServiceX backend
  (``servicex.yaml`` in its working directory); it must exit 0, write its PNGs, and its
  histograms must equal the uproot_opendata ones too.

Precision: the awkward references compute four-vectors, deltaR, HT and mT in double
precision (``ak.values_astype(..., np.float64)``); the RDataFrame references do the same
(``ROOT::Math::PtEtaPhiMVector``, ``DeltaR<double>``, double sums), except ADL 5's
``InvariantMasses`` on float columns (it differs from double by at most 3.4e-5 GeV for 50-130 GeV
pairs in 1M events), which matters only that close to the 60/120 GeV window edges.  All
histograms agree exactly here and also on 100k and 1M events.
"""

from __future__ import annotations

import importlib.util
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from vibeplot.datasets.sample import generate_sample
from vibeplot.core.sandbox.run import Grant, Limits, RunResult, run_script

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("ROOT") is None, reason="ROOT (the rdataframe extra) is not installed"),
    pytest.mark.timeout(240),
]

STACKS = Path(__file__).resolve().parents[1] / "stacks"
UPROOT_REFS = STACKS / "uproot_opendata" / "references"
RDF_REFS = STACKS / "rdataframe" / "references"
PLACEHOLDER = "{{dataset}}"
N_EVENTS = 20_000
PNGS = {
    "adl1": ["met.png"],
    "adl2": ["jet_pt.png"],
    "adl3": ["jet_pt_eta1.png"],
    "adl4": ["met_2jets.png"],
    "adl5": ["met_zmumu.png"],
    "adl6": ["trijet_pt.png", "trijet_maxbtag.png"],
    "adl7": ["ht_cleaned.png"],
    "adl8": ["mt_lep_met.png"],
}
VARIANTS = {"servicex": RDF_REFS, "direct": RDF_REFS / "direct"}


def prepare(source: Path, sample: Path, workdir: Path) -> Path:
    workdir.mkdir(parents=True)
    script = workdir / "script.py"
    script.write_text(source.read_text().replace(PLACEHOLDER, str(sample)))
    return script


def run_all(jobs: list[tuple[str, Path, Path]], workers: int, grant: Grant,
            setup=None) -> dict[str, tuple[RunResult, Path]]:
    """Run ``(key, script, workdir)`` jobs through the sandbox, a few at a time, granted ``grant``
    (the sample; the network for ServiceX)."""

    def one(job):
        key, script, workdir = job
        if setup is not None:
            setup(workdir)
        return key, (run_script(script, workdir=workdir, limits=Limits(timeout=180), grant=grant), workdir)

    with ThreadPoolExecutor(workers) as pool:
        return dict(pool.map(one, jobs))


def histogram(workdir: Path, png: str) -> dict:
    sidecar = workdir / f"{png}.json"
    assert sidecar.is_file(), f"no histogram sidecar for {png}"
    axes = json.loads(sidecar.read_text())["axes"]
    hists = [h for ax in axes for h in ax["histograms"]]
    assert len(hists) == 1, f"{png}: expected one histogram, found {len(hists)}"
    return hists[0]


def assert_same_histogram(want: dict, got: dict, png: str) -> None:
    assert len(got["edges"]) == len(want["edges"]), \
        f"{png}: {len(got['edges']) - 1} bins, want {len(want['edges']) - 1}"
    for a, b in zip(got["edges"], want["edges"]):
        assert abs(a - b) <= 1e-9 * max(1.0, abs(b)), f"{png}: bin edges {got['edges']} != {want['edges']}"
    diffs = {i: (w, g) for i, (w, g) in enumerate(zip(want["values"], got["values"])) if w != g}
    assert not diffs, f"{png}: bins differ (bin: (uproot, rdataframe)): {diffs}"


def assert_ran(result: RunResult, workdir: Path, name: str) -> None:
    assert result.returncode == 0, f"{name}: {result.describe()}\n{result.stderr[-3000:]}"
    for png in PNGS[name]:
        assert (workdir / png).is_file() and (workdir / png).stat().st_size > 1000, f"{name}: {png} missing"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return generate_sample(tmp_path_factory.mktemp("data") / "sample.root", n_events=N_EVENTS)


@pytest.fixture(scope="module")
def direct_runs(sample, tmp_path_factory):
    """uproot_opendata and rdataframe/direct references on the sample, two at a time."""
    base = tmp_path_factory.mktemp("direct")
    jobs = []
    for name in PNGS:
        for kind, folder in (("uproot", UPROOT_REFS), ("rdf", RDF_REFS / "direct")):
            workdir = base / kind / name
            jobs.append((f"{kind}/{name}", prepare(folder / f"{name}.py", sample, workdir), workdir))
    return run_all(jobs, workers=2, grant=Grant(read_only=(sample,)))


@pytest.fixture(scope="module")
def servicex_runs(sample, tmp_path_factory, request):
    """rdataframe ServiceX-mode references against the session's local backend, each in its own directory."""
    pytest.importorskip("servicex")
    backend = request.getfixturevalue("shared_servicex")

    base = tmp_path_factory.mktemp("servicex")
    jobs = [(name, prepare(RDF_REFS / f"{name}.py", sample, base / name), base / name) for name in PNGS]
    # The client polls every ~5 s, so the deliveries overlap well.
    return run_all(jobs, workers=4, grant=Grant(network=True), setup=backend.write_config)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", list(PNGS))
def test_reference_is_well_formed(name, variant):
    source = (VARIANTS[variant] / f"{name}.py").read_text()
    lines = source.splitlines()
    assert source.count(PLACEHOLDER) == 1 and f'INPUT_FILE = "{PLACEHOLDER}"' in lines
    assert lines[0].startswith(f"# ADL benchmark {name[3:]}:")
    assert "ROOT.gROOT.SetBatch(True)" in source
    assert "ROOT.gStyle.SetOptStat(0)" in source, "no statistics box"
    assert source.count("DrawLatexNDC(") == 2 and "#it{Simulation}" in source, "the experiment label"
    code = [line for line in lines if not line.lstrip().startswith("#")]
    assert not any("EnableImplicitMT" in line for line in code), "references stay single-threaded"
    assert any("EnableImplicitMT" in line for line in lines), "a comment says how to enable implicit MT"
    for png in PNGS[name]:
        assert f'"{png}"' in source or f'"{png[:-4]}"' in source
    if variant == "servicex":
        assert "deliver(spec)" in source and "NFiles=1" in source and 'ROOT.RDataFrame("servicex", files)' in source
    else:
        assert "servicex" not in source and 'ROOT.RDataFrame("Events", INPUT_FILE)' in source


@pytest.mark.slow  # every reference run in ROOT on 20k events
@pytest.mark.parametrize("name", list(PNGS))
def test_direct_reference_matches_uproot(name, direct_runs):
    (uproot_result, uproot_dir), (rdf_result, rdf_dir) = direct_runs[f"uproot/{name}"], direct_runs[f"rdf/{name}"]
    assert_ran(uproot_result, uproot_dir, name)
    assert_ran(rdf_result, rdf_dir, name)
    assert "entries:" in rdf_result.stdout
    for png in PNGS[name]:
        assert_same_histogram(histogram(uproot_dir, png), histogram(rdf_dir, png), png)


@pytest.mark.slow  # every reference run in ROOT on 20k events
@pytest.mark.parametrize("name", list(PNGS))
def test_servicex_reference_runs_and_matches(name, servicex_runs, direct_runs):
    result, workdir = servicex_runs[name]
    assert_ran(result, workdir, name)
    assert "entries:" in result.stdout
    uproot_result, uproot_dir = direct_runs[f"uproot/{name}"]
    assert_ran(uproot_result, uproot_dir, name)
    for png in PNGS[name]:
        assert_same_histogram(histogram(uproot_dir, png), histogram(workdir, png), png)
