"""The loopback ServiceX backend, driven by the unmodified servicex client.

The session's backend subprocess (tests/conftest.py ``shared_servicex``) serves the
module; each test reads only the log lines written while it ran.  The client
sleeps a fixed 5 s before it first looks for results, so each successful
``deliver`` takes ~6 s; failing ones return within a second.  Seven ``deliver``
calls in all, one answered from the client's cache.  The launcher's own tests
(exit, start failure) start backends of their own.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import awkward as ak
import numpy as np
import psutil
import pytest
import uproot

from conftest import LogSlice
from vibeplot.datasets.sample import generate_sample
from vibeplot.core.servicex.local import LocalServiceX, config_text
from vibeplot.core.servicex.local import transforms

servicex = pytest.importorskip("servicex")
from servicex import General, Sample, ServiceXSpec, dataset, deliver, query  # noqa: E402
from servicex_analysis_utils import to_awk  # noqa: E402

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sxlocal")


@pytest.fixture(scope="module")
def sample_file(workdir) -> Path:
    path = workdir / "sample.root"
    generate_sample(path, n_events=2000)
    return path


@pytest.fixture(scope="module")
def direct(sample_file) -> ak.Array:
    return uproot.open(sample_file)["Events"].arrays()


@pytest.fixture(scope="module")
def sx(shared_servicex):
    return shared_servicex


_LOG: dict[str, LogSlice] = {}


@pytest.fixture(autouse=True)
def _log_slice(request):
    """What this test's runs wrote to the shared backend's log (:func:`log_text`)."""
    if "sx" in request.fixturenames:
        _LOG["slice"] = LogSlice(request.getfixturevalue("sx").log_path)
    yield
    _LOG.pop("slice", None)


def run(sx: LocalServiceX, run_dir: Path, samples: list, fmt: str = "root-file") -> dict:
    """One client run: its own servicex.yaml (and so its own query cache) in ``run_dir``."""
    config = sx.write_config(run_dir)
    spec = ServiceXSpec(General=General(OutputFormat="parquet" if fmt == "parquet" else "root-ttree"), Sample=samples)
    return deliver(spec, config_path=str(config), progress_bar="none")


def log_text(sx: LocalServiceX) -> str:
    """The backend's log lines since this test started."""
    return _LOG["slice"].read()


def failure(guard) -> str:
    """The message the user script sees when it touches a failed sample."""
    with pytest.raises(Exception) as info:
        list(guard)
    return str(info.value)


# ---------------------------------------------------------------- through the client

def test_root_file_outputs_match_the_input(sx, sample_file, direct, tmp_path):
    raw = query.UprootRaw([{"treename": {"Events": "met_and_jets"}, "filter_name": ["MET_pt", "Jet_pt"]}])
    funcadl = query.FuncADL_Uproot().FromTree("Events").Select(lambda e: {"met": e.MET_pt, "jet_pt": e.Jet_pt})
    files = run(sx, tmp_path, [
        Sample(Name="raw", Dataset=dataset.FileList([str(sample_file)]), Query=raw),
        Sample(Name="funcadl", Dataset=dataset.FileList([str(sample_file)]), Query=funcadl),
    ])
    # One output per input, named like ServiceX names it (path with / -> :), downloaded
    # by the client into the run's own cache.
    assert [Path(p).name for p in files["raw"]] == [transforms.object_name(str(sample_file), "root-file").replace(":", "_")]
    assert Path(files["raw"][0]).is_relative_to(tmp_path / "servicex-cache")
    assert uproot.open(files["raw"][0]).keys(cycle=False) == ["met_and_jets"]
    assert uproot.open(files["funcadl"][0]).keys(cycle=False) == ["servicex"]

    arrays = to_awk(files)
    raw_out, fa_out = arrays["raw"], arrays["funcadl"]
    assert ak.to_list(raw_out.MET_pt) == ak.to_list(direct.MET_pt)
    assert ak.to_list(raw_out.Jet_pt) == ak.to_list(direct.Jet_pt)  # jagged structure preserved
    assert ak.to_list(fa_out.met) == ak.to_list(direct.MET_pt)
    assert ak.to_list(fa_out.jet_pt) == ak.to_list(direct.Jet_pt)

    log = log_text(sx)
    assert re.search(r"POST /servicex/transformation -> 200 request_id=\S+ codegen=uproot-raw", log)
    assert re.search(r"POST /servicex/transformation -> 200 request_id=\S+ codegen=uproot ", log)

    # Same query, same run (same cache_path): answered from the client's cache, no new request.
    posts = log.count("POST /servicex/transformation")
    again = run(sx, tmp_path, [Sample(Name="raw", Dataset=dataset.FileList([str(sample_file)]), Query=raw)])
    assert list(again["raw"]) == list(files["raw"])
    assert log_text(sx).count("POST /servicex/transformation") == posts


def test_parquet_with_cut_and_expressions(sx, sample_file, direct, tmp_path):
    raw = query.UprootRaw([{
        "treename": "Events", "expressions": ["MET_pt", "Jet_pt", "njet", "lead_pt"],
        "aliases": {"njet": "num(Jet_pt)", "lead_pt": "max(Jet_pt)"},
        "cut": "(MET_pt > 40) & (num(Jet_pt) >= 2)",
    }])
    funcadl = (query.FuncADL_Uproot().FromTree("Events")
               .Where(lambda e: e.MET_pt > 40)
               .Select(lambda e: {"met": e.MET_pt, "jet_pt": e.Jet_pt}))
    files = run(sx, tmp_path, [
        Sample(Name="raw", Dataset=dataset.FileList([str(sample_file)]), Query=raw),
        Sample(Name="funcadl", Dataset=dataset.FileList([str(sample_file)]), Query=funcadl),
    ], fmt="parquet")
    assert files["raw"][0].endswith(".root.parquet")

    # (to_awk would take these for ROOT files: their names contain ".root", as real
    # ServiceX names them; read them as parquet directly.)
    raw_out = ak.from_parquet(files["raw"][0])
    keep = (direct.MET_pt > 40) & (ak.num(direct.Jet_pt) >= 2)
    assert len(raw_out) == int(ak.sum(keep)) > 0
    assert ak.to_list(raw_out.Jet_pt) == ak.to_list(direct.Jet_pt[keep])
    assert ak.to_list(raw_out.njet) == ak.to_list(ak.num(direct.Jet_pt[keep]))
    assert np.allclose(ak.to_numpy(raw_out.lead_pt), ak.to_numpy(ak.max(direct.Jet_pt[keep], axis=1)))
    assert set(raw_out.treename) == {"Events"}

    fa_out = ak.from_parquet(files["funcadl"][0])
    assert ak.to_list(fa_out.met) == ak.to_list(direct.MET_pt[direct.MET_pt > 40])
    assert ak.to_list(fa_out.jet_pt) == ak.to_list(direct.Jet_pt[direct.MET_pt > 40])


def test_missing_file_fails_clearly_and_the_backend_keeps_serving(sx, sample_file, direct, tmp_path):
    missing = sample_file.parent / "no-such-file.root"
    files = run(sx, tmp_path / "bad", [Sample(
        Name="missing", Dataset=dataset.FileList([str(missing)]),
        Query=query.UprootRaw([{"treename": "Events", "filter_name": ["MET_pt"]}]))])
    with pytest.raises(Exception) as info:
        to_awk(files)
    message = str(info.value)
    assert "Fatal issue in ServiceX server" in message
    assert f"Failed to transform input file {missing}" in message and "No such file or directory" in message
    assert re.search(rf"ERROR request \S+ \(missing\) file {re.escape(str(missing))}: transform FAILED: "
                     rf"Failed to transform input file {re.escape(str(missing))}: \[Errno 2\]", log_text(sx))

    # The same query as the first test, in a new run (new servicex.yaml, new cache): the
    # backend still serves, and the client submits afresh.
    good = run(sx, tmp_path / "good", [Sample(
        Name="raw", Dataset=dataset.FileList([str(sample_file)]),
        Query=query.UprootRaw([{"treename": {"Events": "met_and_jets"}, "filter_name": ["MET_pt", "Jet_pt"]}]))])
    assert ak.to_list(to_awk(good)["raw"].MET_pt) == ak.to_list(direct.MET_pt)


def test_missing_branch_fails_naming_the_branch(sx, sample_file, tmp_path):
    files = run(sx, tmp_path, [
        Sample(Name="raw_filter", Dataset=dataset.FileList([str(sample_file)]),
               Query=query.UprootRaw([{"treename": "Events", "filter_name": ["MET_pt", "Jet_ptt"]}])),
        Sample(Name="raw_expr", Dataset=dataset.FileList([str(sample_file)]),
               Query=query.UprootRaw([{"treename": "Events", "expressions": ["MET_ptt"]}])),
        Sample(Name="funcadl", Dataset=dataset.FileList([str(sample_file)]),
               Query=query.FuncADL_Uproot().FromTree("Events").Select(lambda e: {"met": e.MET_ptt})),
    ])
    assert "not found: 'Jet_ptt'" in failure(files["raw_filter"])
    assert "Available keys: 'Jet_pt'" in failure(files["raw_filter"])  # closest names first
    assert "not found: 'MET_ptt'" in failure(files["raw_expr"])
    assert "MET_ptt not in fields" in failure(files["funcadl"])
    log = log_text(sx)
    assert re.search(r"\(raw_filter\) file .*transform FAILED: Failed to transform input file .*not found: 'Jet_ptt'", log)
    assert re.search(r"\(funcadl\) file .*transform FAILED: .*MET_ptt not in fields", log)


def test_unsupported_requests_fail_clearly(sx, sample_file, tmp_path):
    xaod_qastle = "(call Select (call EventDataset 'bogus.root' 'CollectionTree') (lambda (list e) (attr e 'x')))"
    files = run(sx, tmp_path, [
        Sample(Name="rucio", Dataset=dataset.Rucio("mc23_13p6TeV:mc23_13p6TeV.801167.Py8EG_jj_JZ2.deriv.DAOD_PHYSLITE"),
               Query=query.UprootRaw([{"treename": "Events", "filter_name": ["MET_pt"]}])),
        Sample(Name="xaod", Dataset=dataset.FileList([str(sample_file)]), Query=xaod_qastle, Codegen="atlasr25"),
        Sample(Name="bad_query", Dataset=dataset.FileList([str(sample_file)]), Query="(call Select", Codegen="uproot"),
    ])
    rucio = failure(files["rucio"])
    assert "failed due to a dataset problem: Dataset does not exist" in rucio
    assert "cannot look up the rucio dataset" in rucio and "dataset.FileList" in rucio
    assert transforms.ATLAS_MESSAGE in failure(files["xaod"])
    assert "Invalid transform request: Failed to generate translation code" in failure(files["bad_query"])
    log = log_text(sx)
    assert "Bad Dataset: the local ServiceX backend cannot look up the rucio dataset" in log
    assert f"transform FAILED: Failed to transform input file {sample_file}: {transforms.ATLAS_MESSAGE}" in log
    assert re.search(r"POST /servicex/transformation -> 400 .*codegen=uproot rejected: Failed to generate", log)


# ---------------------------------------------------------------- the REST API itself

def get(url: str):
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


def post(url: str, body: dict):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def test_rest_api_without_the_client(sx, sample_file):
    info = get(sx.url + "/servicex")
    assert {"uproot-raw", "uproot", "atlasr25"} <= set(info["code-gen-image"])
    assert "poll_local_transformation_results" in info["capabilities"]

    selection = json.dumps([{"treename": "Events", "filter_name": "MET_pt"}])
    request_id = post(sx.url + "/servicex/transformation", {
        "title": "direct", "file-list": [str(sample_file)], "selection": selection, "codegen": "uproot-raw",
        "result-destination": "object-store", "result-format": "parquet"})["request_id"]
    for _ in range(30):  # each status request waits up to 3.5 s for the transform to end
        status = get(f"{sx.url}/servicex/transformation/{request_id}")
        if status["status"] == "Complete":
            break
    assert (status["files"], status["files-completed"], status["files-failed"], status["files-remaining"]) == (1, 1, 0, 0)
    assert status["minio-endpoint"] == sx.s3 and status["minio-secured"] is False
    assert status["selection"] == selection and status["result-format"] == "parquet" and status["title"] == "direct"
    assert request_id in [r["request_id"] for r in get(sx.url + "/servicex/transformation")["requests"]]

    results = get(f"{sx.url}/servicex/transformation/{request_id}/results")["results"]
    assert [(r["transform_status"], r["s3-object-name"]) for r in results] == [
        ("success", transforms.object_name(str(sample_file), "parquet"))]
    later = urllib.parse.quote(results[0]["created_at"] + "+00:00")
    assert get(f"{sx.url}/servicex/transformation/{request_id}/results?later_than={later}") == {"results": []}

    with pytest.raises(urllib.error.HTTPError) as info:
        get(sx.url + "/servicex/transformation/no-such-id")
    assert info.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as info:
        post(sx.url + "/servicex/transformation", {"file-list": [str(sample_file)], "selection": "[]",
                                                   "codegen": "uproot-raw", "result-destination": "object-store"})
    assert info.value.code == 400 and "Failed to generate translation code" in json.loads(info.value.read())["message"]


def test_config_file_format(sx, tmp_path):
    path = sx.write_config(tmp_path)
    assert path == tmp_path / "servicex.yaml"
    text = path.read_text()
    assert text == config_text(sx.url, tmp_path / "servicex-cache")
    import yaml

    config = yaml.safe_load(text)
    assert config["default-endpoint"] == "vibeplot-local"
    assert config["api_endpoints"] == [{"name": "vibeplot-local", "endpoint": sx.url}]


def test_exit_leaves_no_process_behind(tmp_path):
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    with LocalServiceX(log_path=tmp_path / "sx.log") as backend:
        pid = backend.pid
        assert psutil.pid_exists(pid)
        assert get(backend.url + "/servicex")["app-version"]
    assert not psutil.pid_exists(pid)
    assert {p.pid for p in me.children(recursive=True)} - before == set()
    assert "local ServiceX backend stopped" in (tmp_path / "sx.log").read_text()  # a clean SIGTERM shutdown


def test_shared_backend_is_started_once_on_first_use_and_stopped(tmp_path, monkeypatch):
    """compare's block: no start until a run needs it, one start for every run (any thread), stopped
    at the end even on an error; ``$VIBEPLOT_LOCAL_SERVICEX`` wins over it."""
    from concurrent.futures import ThreadPoolExecutor

    from vibeplot.core.servicex.local.launcher import SHARED_ENV, backend_for_run, shared_backend

    monkeypatch.delenv(SHARED_ENV, raising=False)

    def one_run(i: int) -> tuple[str, int]:
        with backend_for_run(log_path=tmp_path / f"run{i}" / "servicex-backend.log") as backend:
            return backend.url, backend.pid

    log = tmp_path / "compare" / "servicex-backend.log"
    with pytest.raises(KeyError), shared_backend(log) as shared:
        assert shared.starts == 0 and not log.exists()  # nothing needed it yet
        with ThreadPoolExecutor(4) as pool:
            used = set(pool.map(one_run, range(6)))
        assert shared.starts == 1 and len(used) == 1
        (url, pid), = used
        assert get(url + "/servicex")["app-version"] and psutil.pid_exists(pid)
        monkeypatch.setenv(SHARED_ENV, "http://127.0.0.1:9")
        assert one_run(9) == ("http://127.0.0.1:9", None)
        monkeypatch.delenv(SHARED_ENV)
        raise KeyError("a cell failed")
    assert not psutil.pid_exists(pid) and "local ServiceX backend stopped" in log.read_text()
    assert not list(tmp_path.glob("run*/servicex-backend.log"))
    # outside any block: one backend per run, logging in the run's directory
    url_alone, pid_alone = one_run(7)
    assert url_alone != url and not psutil.pid_exists(pid_alone)
    assert "local ServiceX backend stopped" in (tmp_path / "run7" / "servicex-backend.log").read_text()


CTRL_C = """
import sys, threading, time, urllib.request
from vibeplot.core.servicex.local.launcher import backend_for_run, shared_backend

def late_cell():  # still running when Ctrl-C comes; needs the backend only afterwards
    time.sleep(1.5)
    with backend_for_run(log_path="unused.log") as backend:
        answer = urllib.request.urlopen(backend.url + "/servicex", timeout=10).read()
    open("cell.txt", "w").write(str(len(answer)))

with shared_backend("compare.log") as shared:
    shared.get()
    threading.Thread(target=late_cell).start()
    raise KeyboardInterrupt
"""


def test_shared_backend_outlives_ctrl_c_until_running_cells_end(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "VIBEPLOT_LOCAL_SERVICEX"}
    proc = subprocess.run([sys.executable, "-c", CTRL_C], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env=env)
    assert "KeyboardInterrupt" in proc.stderr
    assert int((tmp_path / "cell.txt").read_text()) > 0, proc.stderr[-2000:]
    assert not (tmp_path / "unused.log").exists()
    log = (tmp_path / "compare.log").read_text()
    assert log.count("backend serving") == 1 and log.rstrip().endswith("local ServiceX backend stopped")


def test_start_failure_is_reported(tmp_path):
    broken = LocalServiceX(log_path=tmp_path / "sx.log", python="/bin/false", startup_timeout=10)
    with pytest.raises(RuntimeError, match="exited .* before it was ready"):
        broken.start()


# ---------------------------------------------------------------- transforms, without HTTP

def raw_transform(query_dicts: list, source: Path, out: Path, fmt: str = "root-file"):
    return transforms.transform_file(transforms.prepare("uproot-raw", json.dumps(query_dicts)), str(source), out, fmt)


def test_uproot_raw_treename_forms_and_histograms(tmp_path):
    source = tmp_path / "in.root"
    with uproot.recreate(source) as f:
        f.mktree("nominal", {"x": np.arange(5.0), "y": np.arange(5)})
        f.mktree("syst", {"x": np.arange(3.0), "y": np.arange(3)})
        f["cutflow"] = np.histogram([0.5, 1.5, 1.5], bins=2, range=(0, 2))
    out = tmp_path / "out.root"
    raw_transform([{"treename": "nominal", "filter_name": "x"},
                   {"treename": ["syst"], "cut": "y > 0"},
                   {"treename": {"nominal": "renamed"}, "expressions": ["x2"], "aliases": {"x2": "x * 2"}},
                   {"copy_histograms": "cut*"}], source, out)
    f = uproot.open(out)
    assert sorted(f.keys(cycle=False)) == ["cutflow", "nominal", "renamed", "syst"]
    assert f["nominal"].keys() == ["x"]
    assert f["syst"]["x"].array().tolist() == [1.0, 2.0]
    assert f["renamed"]["x2"].array().tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert f["cutflow"].values().tolist() == [1.0, 2.0]

    # parquet: trees concatenated with a treename column; histograms refused
    pq = tmp_path / "out.parquet"
    raw_transform([{"treename": ["nominal", "syst"], "filter_name": "x"}], source, pq, "parquet")
    table = ak.from_parquet(pq)
    assert ak.to_list(table.treename) == ["nominal"] * 5 + ["syst"] * 3
    with pytest.raises(transforms.TransformError, match="Cannot store histograms"):
        raw_transform([{"copy_histograms": "cutflow"}], source, tmp_path / "h.parquet", "parquet")

    # missing trees: skipped when some requested tree exists, an error when none does
    raw_transform([{"treename": ["nominal", "absent"]}], source, tmp_path / "skip.root")
    with pytest.raises(transforms.TransformError, match="not found: 'absent'"):
        raw_transform([{"treename": "absent"}], source, tmp_path / "none.root")
    raw_transform([{"treename": "absent", "fail_on_missing_trees": False}], source, tmp_path / "ok.root")
    with pytest.raises(transforms.TransformError, match="not found: 'absent'"):
        raw_transform([{"treename": ["nominal", "absent"], "fail_on_missing_trees": True}], source, tmp_path / "f.root")


def test_uproot_raw_axis_defaults_and_codegen_errors(sample_file, direct, tmp_path):
    # Reductions work per event (axis=1 by default), as in ServiceX's uproot-raw.
    query_dicts = [{"treename": "Events", "expressions": ["n", "top"],
                    "aliases": {"n": "count(Jet_pt)", "top": "max(Jet_pt)"}, "cut": "any(Jet_pt > 100)"}]
    raw_transform(query_dicts, sample_file, tmp_path / "axis.parquet", "parquet")
    got = ak.from_parquet(tmp_path / "axis.parquet")
    keep = ak.any(direct.Jet_pt > 100, axis=1)
    assert ak.to_list(got.n) == ak.to_list(ak.count(direct.Jet_pt[keep], axis=1))
    assert ak.to_list(got.top) == ak.to_list(ak.max(direct.Jet_pt[keep], axis=1))
    # ROOT output cannot hold option types (max() of a possibly empty list), as in ServiceX.
    with pytest.raises(transforms.TransformError, match="cannot write Awkward Array type to ROOT file"):
        raw_transform(query_dicts, sample_file, tmp_path / "axis.root")

    for bad, reason in [("", "empty string"), ("{", "not JSON"), ('{"treename": "Events"}', "not a list"),
                        ('[{"cut": "x > 1"}]', "At least one tree")]:
        with pytest.raises(transforms.CodegenError, match=reason):
            transforms.prepare("uproot-raw", bad)
    with pytest.raises(transforms.CodegenError, match="Invalid Codegen"):
        transforms.prepare("cms", "x")


def test_object_names_follow_servicex():
    assert transforms.object_name("/data/a.root", "root-file") == ":data:a.root"
    assert transforms.object_name("root://host//a.root", "parquet") == "root:::host::a.root.parquet"
    long = transforms.object_name("/x" * 300 + "/tail.root", "root-file")
    assert len(long) == transforms.MAX_PATH_LEN and long.endswith("tail.root") and long.startswith("_")
