"""End to end: `vibeplot ask --model reference` for every registered question (ADL Q1-Q8 and the
extras) in every stack (and the rdataframe stack in both modes), each in one attempt with its PNG
and a `correct` verdict; the histograms drawn agree bin for bin across stacks (same file, read from
the capture sidecars), unless the registry states an intended difference; and every stack's
reference validates every other stack's plots (each reference run records the values it
histogrammed in attempt-1/truth-values.json)."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from conftest import LogSlice, only_run_dir, read_manifest, run_cli
from vibeplot.core.ask.loop import TRUTH_VALUES
from vibeplot.core.questions import registry
from vibeplot.core.ask.validate import validate
from vibeplot.core.servicex.local.launcher import SHARED_ENV

QUESTIONS = list(registry())
HAVE_ROOT = importlib.util.find_spec("ROOT") is not None
# (stack, mode): mode "direct" passes the sample with --dataset PATH (no ServiceX)
VARIANTS = [("uproot_opendata", ""), ("servicex_awkward", "")]
if HAVE_ROOT:
    VARIANTS += [("rdataframe", ""), ("rdataframe", "direct")]
#: runs of this question start their own local ServiceX backend (its log in the attempt directory);
#: the others use the session's (tests/conftest.py: shared_servicex)
PER_RUN_BACKEND = "adl-1"
_runs: dict[tuple, tuple] = {}
# The fast tier (-m "not slow") keeps one end-to-end run per stack and mode: ADL Q1.  Under
# pytest-xdist the tests of one question share a worker (tests/conftest.py: xdist_scope).
slow_unless_q1 = [pytest.param(q, marks=() if q == PER_RUN_BACKEND else pytest.mark.slow) for q in QUESTIONS]


def ask_reference(stack: str, mode: str, qid: str, tmp_path_factory, sample, request):
    """One run per (stack, mode, question), shared by the tests below: (process, run directory, the
    part of the shared backend's log written during the run, or None when the run had its own)."""
    key = (stack, mode, qid)
    if key not in _runs:
        cwd = tmp_path_factory.mktemp(f"{stack}-{mode or 'default'}-{qid}")
        if registry()[qid].dataset == "weighted sample":  # met-weighted, met-lumi: the embedded weighted sample
            from vibeplot.datasets import embedded

            data = [embedded.ensure_sample(weighted=True)]
        elif len(registry()[qid].datasets) > 1:  # several samples: each toy sample, in the registered order
            data = sample_files(qid)
        else:
            data = [sample]
        extra = [arg for path in data for arg in ("--dataset", str(path))] if mode == "direct" else []
        shared = qid != PER_RUN_BACKEND
        shared_servicex = request.getfixturevalue("shared_servicex") if shared else None
        log = LogSlice(shared_servicex.log_path) if shared else None
        proc = run_cli("ask", "--model", "reference", "--stack", stack, *extra, registry()[qid].text, cwd=cwd,
                       env={SHARED_ENV: shared_servicex.url} if shared else None)
        run = only_run_dir(cwd / "vibeplot-runs") if (cwd / "vibeplot-runs").exists() else None
        _runs[key] = (proc, run, log.read() if shared else None)
    return _runs[key]


def sample_files(qid) -> list:
    """The files of a question about several samples (the embedded toy samples), in its registered order."""
    from vibeplot.core.resolver import ResolveContext, resolve_one
    from vibeplot.datasets import embedded

    return [embedded.ensure_toy_sample(resolve_one(p, ResolveContext()).name) for p in registry()[qid].datasets]


def all_variants(qid, tmp_path_factory, sample, request) -> dict[tuple, object]:
    """The run directory of ``qid`` in every variant, each asserted to have succeeded."""
    runs = {}
    for stack, mode in VARIANTS:
        proc, run, _ = ask_reference(stack, mode, qid, tmp_path_factory, sample, request)
        assert proc.returncode == 0, proc.stderr
        runs[stack, mode] = run
    return runs


def histograms(run) -> dict[str, list]:
    """Per plot file: (edges, contents) of every histogram drawn, from the capture sidecars; a stacked
    component's own contents (values - baseline); a histogram drawn twice (ROOT's data points over the
    simulation) once; in a canonical order (stacks draw a figure's histograms in different orders).
    A stacked component's contents are a difference of two drawn sums, so they may differ from ROOT's
    in the last bits: those are compared to 1e-12 (relative), the others bin for bin."""
    out = {}
    for png in read_manifest(run)["plots"]:
        sidecar = json.loads((run / f"{png}.json").read_text())
        drawn = {}
        for h in (h for ax in sidecar["axes"] for h in ax["histograms"]):
            values = np.array(h["values"]) - np.array(h.get("baseline") or 0.0)
            drawn.setdefault((tuple(h["edges"]), tuple(values)), (np.array(h["edges"]), values, "baseline" in h))
        out[png] = sorted(drawn.values(), key=lambda h: (len(h[0]), h[0][0], h[0][-1], round(float(h[1].sum()), 6)))
    return out


@pytest.mark.parametrize("stack, mode", VARIANTS, ids=[f"{s}{'-' + m if m else ''}" for s, m in VARIANTS])
@pytest.mark.parametrize("qid", slow_unless_q1)
def test_adl_reference_one_attempt(stack, mode, qid, tmp_path_factory, sample, request):
    proc, run, shared_log = ask_reference(stack, mode, qid, tmp_path_factory, sample, request)
    assert proc.returncode == 0, proc.stderr
    manifest = read_manifest(run)
    assert manifest["question_id"] == qid and manifest["stack"] == stack
    assert manifest["totals"]["attempts"] == 1
    assert len(manifest["plots"]) == (2 if qid == "adl-6" else 1)
    assert all((run / p).stat().st_size > 5000 for p in manifest["plots"])
    assert manifest["verdict"] == {"status": "correct", "diagnosis": []}, manifest["verdict"]
    backend_log = run / "attempt-1" / "servicex-backend.log"
    if shared_log is not None:  # the session's backend served the run: nothing started for it
        assert not backend_log.exists()
    if stack != "uproot_opendata" and mode != "direct":  # deliver went over HTTP to the local backend
        log = backend_log.read_text() if shared_log is None else shared_log
        assert "POST /servicex/transformation -> 200" in log and "Complete: 1/1 files ok" in log
    elif shared_log is None:
        assert not backend_log.exists()
    else:
        assert "POST /servicex/transformation" not in shared_log


@pytest.mark.parametrize("qid", slow_unless_q1)
def test_stacks_agree_bin_for_bin(qid, tmp_path_factory, sample, request):
    drawn = {variant: histograms(run) for variant, run in all_variants(qid, tmp_path_factory, sample, request).items()}
    baseline = drawn[VARIANTS[0]]
    assert baseline and all(hists for hists in baseline.values())
    differences = registry()[qid].differences
    for variant, plots in drawn.items():
        if variant[0] in differences:  # intended, written in the registry; checked by the test below
            continue
        assert plots.keys() == baseline.keys(), variant
        for png, hists in plots.items():
            assert len(hists) == len(baseline[png]), (variant, png)
            for (edges, values, stacked), (ref_edges, ref_values, ref_stacked) in zip(hists, baseline[png]):
                np.testing.assert_allclose(edges, ref_edges, rtol=1e-9, atol=1e-12, err_msg=f"{variant} {png}")
                if stacked or ref_stacked:  # (top - bottom) of a drawn stack: last-bit differences
                    np.testing.assert_allclose(values, ref_values, rtol=1e-12, atol=0, err_msg=f"{variant} {png}")
                else:
                    assert np.array_equal(values, ref_values), f"{variant} differs from {VARIANTS[0]} in {png}"


@pytest.mark.parametrize("qid", slow_unless_q1)
def test_every_reference_validates_every_other(qid, tmp_path_factory, sample, request):
    runs = all_variants(qid, tmp_path_factory, sample, request)
    values = {v: json.loads((run / "attempt-1" / TRUTH_VALUES).read_text()) for v, run in runs.items()}
    per_plot = max(1, len(registry()[qid].datasets))  # one histogram per sample in a several-samples figure
    assert all(len(recorded) == per_plot * len(read_manifest(runs[v])["plots"]) for v, recorded in values.items()), \
        {v: [r["source"] for r in recorded] for v, recorded in values.items()}
    for truth, recorded in values.items():
        for candidate, run in runs.items():
            sidecars = [json.loads((run / f"{png}.json").read_text()) for png in read_manifest(run)["plots"]]
            verdict = validate(sidecars, recorded)
            assert verdict.status == "correct", (f"{candidate} judged by {truth}", verdict.diagnosis)


@pytest.mark.parametrize("qid", slow_unless_q1)
def test_every_plot_has_its_histograms_in_uhi_json(qid, tmp_path_factory, sample, request):
    """Next to every PNG, NAME.png.uhi.json (recorded by sha256 in run.json) loads with hist to the
    histograms of the sidecar: edges, contents, and for ROOT the flow bins and variances."""
    import hashlib
    import shutil

    import hist
    import uhi.io.json

    runs = all_variants(qid, tmp_path_factory, sample, request)
    for variant, run in runs.items():
        manifest = read_manifest(run)
        for png in manifest["plots"]:
            data = (run / f"{png}.uhi.json").read_bytes()
            assert manifest["plot_uhi_records"][png] == hashlib.sha256(data).hexdigest(), (variant, png)
            sidecar = json.loads((run / f"{png}.json").read_text())
            drawn = [h for ax in sidecar["axes"] for h in ax["histograms"]]
            loaded = json.loads(data, object_hook=uhi.io.json.object_hook)
            assert list(loaded) == [str(i) for i in range(len(drawn))] and drawn, (variant, png)
            for ir, d in zip(loaded.values(), drawn):
                h, where = hist.Hist(ir), f"{variant} {png}"
                np.testing.assert_allclose(h.axes[0].edges, d["edges"], rtol=0,
                                           atol=1e-9 * (d["edges"][-1] - d["edges"][0]), err_msg=where)
                assert h.values().tolist() == d["values"], where
                if d["kind"] == "TH1":  # ROOT: flow bins, and the variances ROOT reports
                    assert h.values(flow=True).tolist() == [d["underflow"], *d["values"], d["overflow"]], where
                    assert h.variances(flow=True).tolist() == [d["underflow_variance"], *d["variances"],
                                                               d["overflow_variance"]], where
                else:  # a matplotlib figure: what is drawn, no flow, no variances
                    assert not h.axes[0].traits.underflow and h.storage_type is hist.storage.Double, where
    if qid == PER_RUN_BACKEND:  # once: `vibeplot validate` refuses an edited UHI file
        run = tmp_path_factory.mktemp("edited-uhi") / "run"
        shutil.copytree(runs[VARIANTS[0]], run)
        png = read_manifest(run)["plots"][0]
        edited = json.loads((run / f"{png}.uhi.json").read_text())
        edited["0"]["storage"]["values"][3] += 1
        (run / f"{png}.uhi.json").write_text(json.dumps(edited))
        proc = run_cli("validate", str(run), cwd=run)
        assert proc.returncode == 1 and proc.stdout.startswith("unverifiable"), proc.stdout + proc.stderr
        assert f"{png}.uhi.json differs" in proc.stdout and "edited" in proc.stdout
        assert "NAME.png.uhi.json checked against the sha256" in proc.stderr


def ink_on_edges(png) -> int:
    """Pixels in the image's outermost rows and columns that differ from its corner (the
    background): a label cut off by the canvas edge leaves some there."""
    import matplotlib.image

    rgb = matplotlib.image.imread(png)[..., :3]
    edges = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    return int((np.abs(edges - rgb[0, 0]).max(axis=1) > 0.1).sum())


@pytest.mark.parametrize("qid", slow_unless_q1)
def test_every_plot_names_its_axes_and_nothing_is_clipped(qid, tmp_path_factory, sample, request):
    """Both axes of every reference plot have titles, ROOT's too (the values hook of a reference run
    once dropped the axis titles of an RDataFrame model, ("name", "title;x title;y title", ...)), and
    nothing is cut off at the image's edges (the y label, pushed out by five-digit tick labels)."""
    for variant, run in all_variants(qid, tmp_path_factory, sample, request).items():
        for png in read_manifest(run)["plots"]:
            axes = json.loads((run / f"{png}.json").read_text())["axes"]
            assert axes and all(ax["xlabel"].strip() and ax["ylabel"].strip() for ax in axes), (variant, png, axes)
            assert ink_on_edges(run / png) == 0, f"{variant} {png}: drawn over the edge of the image"
