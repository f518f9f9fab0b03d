"""`vibeplot compare` and `vibeplot report` against scripted models on 127.0.0.1 (real HTTP through
litellm, real prices from litellm's map), with every cell a real `ask` run with validation."""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import run_cli
from vibeplot.core import plugins
from vibeplot.core.bench.compare import Cell, CompareOptions, load_results, plan, run_compare
from vibeplot.core.questions import registry
from vibeplot.testing.scripted_server import ScriptedServer

GOOD, SUBTLE = "openai/gpt-4o-mini", "openai/gpt-4o"  # both priced in litellm's bundled map
KEY_COLUMNS = ["stack", "model", "question", "trial", "attempts", "verdict", "diagnosis", "tokens_in",
               "tokens_out", "cost_usd", "error_category"]
pytestmark = pytest.mark.timeout(1600)


@functools.cache
def _system_messages() -> dict[str, str]:
    from vibeplot.core.ask.prompt import system_message
    from vibeplot.datasets import embedded

    return {system_message(st, embedded.dataset()): name for name, st in plugins.stacks().items()}


def _stack_of(system: str) -> str:
    return _system_messages()[system]


def _question_of(user: str) -> str:
    found = [q.id for q in registry().values() if q.text in user]
    return max(found, key=lambda qid: len(registry()[qid].text))


def scripted_models(sample: Path, wrong: set[str]):
    """A reply function: GOOD answers every question with the stack's reference; SUBTLE does too,
    except for the questions in ``wrong``, where it cuts jets at pT > 30 instead of 40 GeV."""
    def reply(messages, request):
        stack = _stack_of(messages[0]["content"])
        qid = _question_of(messages[-1]["content"])
        code = plugins.get_stack(stack).reference_solution(qid).replace("{{dataset}}", str(sample))
        if request["model"] == SUBTLE.split("/")[1] and qid in wrong:
            assert "pt > 40" in code or "Jet_pt > 40" in code, code
            code = code.replace("pt > 40", "pt > 30").replace("Jet_pt > 40", "Jet_pt > 30")
        return f"- Solution for {qid}.\n\n```python\n{code}```\n"
    return reply


def rows_by_key(out: Path) -> dict[str, dict]:
    rows = load_results(out).to_pylist()
    keys = [Cell(r["stack"], r["model"], r["question"], r["trial"]).key for r in rows]
    assert len(keys) == len(set(keys)), "duplicate rows"
    return dict(zip(keys, rows))


def expected_cost(model: str, tokens_in: int, tokens_out: int) -> float:
    import litellm

    return sum(litellm.cost_per_token(model=model, prompt_tokens=tokens_in, completion_tokens=tokens_out))


#: trials per model and cell in the three-stack compare: repeated trials, pass@k over more than one
TRIALS = 2


@pytest.fixture(scope="module")
def three_stack_compare(sample, tmp_path_factory):
    """3 stacks × (GOOD, SUBTLE) × TRIALS trials on adl-1 and adl-4, plus the reference baseline; the
    compare starts its own local ServiceX backend for its ServiceX cells (not the session's)."""
    stacks = ["uproot_opendata", "servicex_awkward"]
    if shutil.which("g++") and __import__("importlib.util").util.find_spec("ROOT"):
        stacks.append("rdataframe")
    out = tmp_path_factory.mktemp("compare") / "out"
    with ScriptedServer([scripted_models(sample, {"adl-4"})]) as server:
        proc = run_cli("compare", "-q", "adl-1,adl-4", "-s", ",".join(stacks), "-m", f"{GOOD},{SUBTLE}",
                       "-t", str(TRIALS), "-j", "6", "-o", str(out), "--api-base", server.url,
                       cwd=out.parent, env={"OPENAI_API_KEY": "scripted"}, timeout=1500)
        requests = list(server.requests)
    return stacks, out, proc, requests


@pytest.mark.slow  # whole compares: many real ask runs
def test_three_stacks_report_matches_scripted_outcomes(three_stack_compare):
    stacks, out, proc, requests = three_stack_compare
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(stacks) == 3, "the rdataframe stack (ROOT, g++) is part of this acceptance test"
    rows = rows_by_key(out)
    assert len(rows) == len(stacks) * 2 * (1 + 2 * TRIALS) == 30
    assert len(requests) == len(stacks) * 2 * 2 * TRIALS  # one model call per trial; the baseline calls nobody
    for r in rows.values():
        want = "wrong" if (r["model"] == SUBTLE and r["question"] == "adl-4") else "correct"
        assert (r["verdict"], r["attempts"]) == (want, 1), r
        if want == "wrong":
            assert "too loose by" in r["diagnosis"]
        if r["model"] == "reference":
            assert (r["tokens_in"], r["cost_usd"]) == (0, 0.0)
        else:
            assert r["tokens_in"] > 500 and r["cost_usd"] == pytest.approx(
                expected_cost(r["model"], r["tokens_in"], r["tokens_out"]), rel=1e-9)
        assert all((out / p).is_file() for p in r["plots"]) and (out / r["run_dir"] / "run.json").is_file()

    summary = json.loads((out / "report" / "summary.json").read_text())
    assert summary["models"] == ["reference", GOOD, SUBTLE] and summary["stacks"] == stacks
    for stack in stacks:
        for model in ("reference", GOOD, SUBTLE):
            for q in ("adl-1", "adl-4"):
                cell = summary["cells"][f"{stack}|{model}|{q}"]
                bad = model == SUBTLE and q == "adl-4"
                assert (cell["correct"], cell["wrong"], cell["attempts"]) == ((0.0, 1.0, 1.0) if bad else (1.0, 0.0, 1.0))
                assert cell["trials"] == (1 if model == "reference" else TRIALS)
                trials = [r for r in rows.values() if (r["stack"], r["model"], r["question"]) == (stack, model, q)]
                assert cell["cost"] == pytest.approx(sum(t["cost_usd"] for t in trials) / len(trials), rel=1e-12)
        # GOOD is the cheaper model and always right; SUBTLE is never right on adl-4
        assert summary["cheapest"][f"{stack}|adl-1"]["model"] == GOOD
        assert summary["cheapest"][f"{stack}|adl-4"]["model"] == GOOD
        assert summary["failures"][stack] == {"wrong": TRIALS}
        assert summary["across_stacks"][f"{SUBTLE}|{stack}"]["correct"] == pytest.approx(0.5)
    assert summary["total_cost"] == pytest.approx(sum(r["cost_usd"] for r in rows.values()), rel=1e-12)

    md = (out / "report.md").read_text()
    for stack in stacks:
        assert f"## {stack}: correct rate (ran but wrong)" in md
    assert f"| {SUBTLE} | 100% (0% wrong) | 0% (100% wrong) |" in md
    assert f"| {GOOD} | 100% (0% wrong) | 100% (0% wrong) |" in md
    assert "| reference (baseline) | 100% (0% wrong) | 100% (0% wrong) |" in md
    assert f"| {SUBTLE} | 50% of {2 * TRIALS} | 50% of {2 * TRIALS} | 50% of {2 * TRIALS} |" in md
    # the results are one line of pandas away
    pandas = pytest.importorskip("pandas")
    frame = pandas.read_parquet(out / "results")
    assert len(frame) == 30 and set(frame["verdict"]) == {"correct", "wrong"}


@pytest.mark.slow  # whole compares: many real ask runs
def test_one_servicex_backend_serves_the_whole_compare(three_stack_compare):
    """One backend start for all ServiceX cells (log in OUT), concurrent requests kept apart: one
    request id and bucket each, each run's client cache in its own run directory."""
    import re

    stacks, out, proc, _ = three_stack_compare
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = (out / "servicex-backend.log").read_text()
    assert log.count("local ServiceX backend serving") == 1 and log.count("local ServiceX backend stopped") == 1
    assert not list((out / "runs").rglob("servicex-backend.log")), "no cell started a backend of its own"
    posts = re.findall(r"^(\S+ \S+) INFO POST /servicex/transformation -> 200 request_id=(\S+)", log, re.M)
    found = re.findall(r"^(\S+ \S+) INFO GET /servicex/transformation/([^/ ]+)/results", log, re.M)
    results = {rid: at for at, rid in reversed(found)}  # each request's first results call
    servicex_runs = [r for r in rows_by_key(out).values() if r["stack"] == "servicex_awkward"]
    assert len(servicex_runs) == 2 * (1 + 2 * TRIALS) and {r["verdict"] for r in servicex_runs} <= {"correct", "wrong"}
    ids = [rid for _, rid in posts]
    assert len(ids) >= len(servicex_runs) and len(set(ids)) == len(ids), "one request id per request"
    for rid in ids:  # each request's results come from its own bucket
        assert re.search(rf"-> s3://{rid}/", log) and rid in results
    # two requests were open at the same time (six cells in flight, two scripts running at once)
    spans = sorted((posted, results[rid]) for posted, rid in posts)
    assert any(b[0] < a[1] for a, b in zip(spans, spans[1:])), "no two requests overlapped"
    caches = [p for p in (out / "runs").rglob("servicex-cache") if "servicex_awkward__" in str(p)]
    assert len(caches) == len(servicex_runs), "each run's client cache is in its own run directory"


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.slow  # whole compares: many real ask runs
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_html_report_renders_in_headless_chromium(three_stack_compare, tmp_path):
    import numpy as np
    from matplotlib.image import imread

    stacks, out, proc, _ = three_stack_compare
    assert proc.returncode == 0, proc.stderr[-3000:]
    # a new report from the recorded results, moved away from the run directories: self-contained
    report = run_cli("report", str(out), cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    page = tmp_path / "report.html"
    shutil.copy(out / "report.html", page)
    # once with a script that reports what the browser laid out: tables, rows and decoded images
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace("</body>", """<script>
document.title = JSON.stringify({tables: document.querySelectorAll("table.grid").length,
  rows: document.querySelectorAll("table.grid tr").length,
  images: [...document.images].filter(i => i.complete && i.naturalWidth > 50).length,
  all_images: document.images.length});
</script></body>"""))
    common = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*common, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    title = dom.stdout.split("<title>")[1].split("</title>")[0]
    laid_out = json.loads(title.replace("&quot;", '"'))
    heat_maps = len(stacks)
    assert laid_out["tables"] == 3 * len(stacks) + 7  # + metrics per question and per model, failure categories
    assert laid_out["images"] == laid_out["all_images"] >= heat_maps + 1 + 2 * len(stacks) * 3
    # and a screenshot: the heat-map greens and reds and the plots' blue are on the page
    shot = tmp_path / "shot.png"
    subprocess.run([*common, "--window-size=1280,4000", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    pixels = imread(shot)[..., :3]
    assert pixels.shape[0] == 4000
    colourful = np.ptp(pixels, axis=2) > 0.3
    assert colourful.mean() > 0.01, "the page rendered almost no colour: grids or plots missing"


def _rerun_until_complete(out: Path, server: ScriptedServer, *extra: str) -> subprocess.CompletedProcess:
    return run_cli("compare", "-q", "adl-1,adl-4", "-s", "uproot_opendata", "-m", f"{GOOD},{SUBTLE}", "-t", "2",
                   "-j", "3", "-o", str(out), "--api-base", server.url, *extra, cwd=out.parent,
                   env={"OPENAI_API_KEY": "scripted"})


@pytest.mark.slow  # whole compares: many real ask runs
def test_killed_compare_resumes_to_the_same_results(sample, tmp_path):
    with ScriptedServer([scripted_models(sample, {"adl-4"})], latency=0.3) as server:
        whole = tmp_path / "whole"
        assert _rerun_until_complete(whole, server).returncode == 0
        # the same compare, killed (SIGKILL, no chance to clean up) once 4 trials are recorded
        killed = tmp_path / "killed"
        exe = Path(sys.executable).with_name("vibeplot")
        proc = subprocess.Popen([str(exe), "compare", "-q", "adl-1,adl-4", "-s", "uproot_opendata", "-m",
                                 f"{GOOD},{SUBTLE}", "-t", "2", "-j", "3", "-o", str(killed), "--api-base", server.url],
                                cwd=tmp_path, env={**os.environ, "OPENAI_API_KEY": "scripted"},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 300
        while len(list((killed / "results").glob("*.parquet"))) < 4 and time.time() < deadline:
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        partial = rows_by_key(killed)
        assert 4 <= len(partial) < len(plan(CompareOptions(["adl-1", "adl-4"], ["uproot_opendata"], [GOOD, SUBTLE],
                                                           trials=2)))
        again = _rerun_until_complete(killed, server)
        assert again.returncode == 2 and "--resume" in again.stderr  # never overwrites earlier results
        resumed = _rerun_until_complete(killed, server, "--resume")
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        assert f"{len(partial)} already done" in resumed.stdout
    got, want = rows_by_key(killed), rows_by_key(whole)
    assert got.keys() == want.keys() and len(got) == 2 + 2 * 2 * 2
    for key in want:
        assert {c: got[key][c] for c in KEY_COLUMNS} == {c: want[key][c] for c in KEY_COLUMNS}, key
    assert all(got[k] == partial[k] for k in partial), "resume must not rerun recorded trials"


@pytest.mark.slow  # whole compares: many real ask runs
def test_max_cost_stops_new_calls_within_budget(sample, tmp_path):
    with ScriptedServer([scripted_models(sample, set())]) as server:
        probe = tmp_path / "probe"
        proc = run_cli("compare", "-q", "adl-1", "-s", "uproot_opendata", "-m", GOOD, "-t", "1", "--no-baseline",
                       "-o", str(probe), "--api-base", server.url, cwd=tmp_path, env={"OPENAI_API_KEY": "x"})
        assert proc.returncode == 0, proc.stderr
        one_call = load_results(probe).to_pylist()[0]["cost_usd"]
        budget = 3.5 * one_call  # room for three calls of this size, not four
        out = tmp_path / "budget"
        proc = run_cli("compare", "-q", "adl-1", "-s", "uproot_opendata", "-m", GOOD, "-t", "6", "--no-baseline",
                       "-j", "1", "-o", str(out), "--api-base", server.url, "--max-cost", f"{budget:.12f}",
                       cwd=tmp_path, env={"OPENAI_API_KEY": "x"})
        assert proc.returncode == 1, proc.stderr
        assert "would be exceeded" in proc.stderr and "--resume" in proc.stderr
        rows = load_results(out).to_pylist()
        assert len(rows) == 3
        spent = sum(r["cost_usd"] for r in rows)
        assert spent <= budget < spent + max(r["cost_usd"] for r in rows)
        calls = len(server.requests)
        assert calls == 1 + 3  # the probe's call and three within the budget: the fourth never started
        # a model without a known price cannot be budgeted: refused before anything runs
        proc = run_cli("compare", "-q", "adl-1", "-m", "openai/no-such-model-xyz", "--max-cost", "1",
                       "-o", str(tmp_path / "unpriced"), "--api-base", server.url, cwd=tmp_path,
                       env={"OPENAI_API_KEY": "x"})
        assert proc.returncode == 2 and "no price" in proc.stderr and len(server.requests) == calls


@pytest.mark.slow  # whole compares: many real ask runs
def test_dask_executor_runs_cells_on_a_local_cluster(sample, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as cluster, \
            ScriptedServer([scripted_models(sample, {"adl-4"})]) as server, distributed.Client(cluster) as client:
        result = run_compare(CompareOptions(
            questions=["adl-1", "adl-4"], stacks=["uproot_opendata"], models=[SUBTLE], trials=2, jobs=3,
            out=tmp_path / "out", api_base=server.url, executor="dask://" + cluster.scheduler_address.split("://")[1]))
        # the cells ran in the worker process, not here
        worker_pids = set(client.run(os.getpid).values())
        assert os.getpid() not in worker_pids
        assert len(server.requests) == 4
    assert result.ran == 2 + 4 and not result.stopped
    rows = rows_by_key(tmp_path / "out")
    assert sorted((r["model"], r["question"], r["verdict"]) for r in rows.values()) == sorted(
        [("reference", "adl-1", "correct"), ("reference", "adl-4", "correct")]
        + [(SUBTLE, "adl-1", "correct")] * 2 + [(SUBTLE, "adl-4", "wrong")] * 2)
    assert pq.read_table(tmp_path / "out" / "results").num_rows == 6


def test_bad_input_is_refused_clearly(tmp_path):
    for args, words in [(["-q", "adl-99"], "unknown question or set"), (["-s", "nope"], "unknown stack"),
                        (["--executor", "spark://x"], "unknown executor")]:
        proc = run_cli("compare", *args, "-o", str(tmp_path / "o"), cwd=tmp_path)
        assert proc.returncode == 2 and words in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    proc = run_cli("report", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and "not a compare directory" in proc.stderr


@pytest.mark.slow  # whole compares: many real ask runs
def test_ctrl_c_stops_cleanly_and_keeps_finished_trials(sample, tmp_path):
    with ScriptedServer([scripted_models(sample, set())], latency=0.5) as server:
        out = tmp_path / "out"
        exe = Path(sys.executable).with_name("vibeplot")
        proc = subprocess.Popen([str(exe), "compare", "-q", "adl-1,adl-2", "-s", "uproot_opendata", "-m", GOOD,
                                 "-t", "3", "-j", "2", "-o", str(out), "--api-base", server.url],
                                cwd=tmp_path, env={**os.environ, "OPENAI_API_KEY": "scripted"},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 300
        while len(list((out / "results").glob("*.parquet"))) < 2 and time.time() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 130, stderr[-2000:]
        assert "Interrupted" in stderr and "--resume" in stderr and "Traceback" not in stderr
        partial = rows_by_key(out)  # every recorded trial is a whole, readable row
        assert 2 <= len(partial) < 2 + 6
        assert not list((out / "results").glob(".*")), "no temporary files left behind"
        resumed = _rerun_until_complete_q(out, server)
        assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert len(rows_by_key(out)) == 2 + 6


def _rerun_until_complete_q(out: Path, server: ScriptedServer) -> subprocess.CompletedProcess:
    return run_cli("compare", "-q", "adl-1,adl-2", "-s", "uproot_opendata", "-m", GOOD, "-t", "3", "-j", "2",
                   "-o", str(out), "--api-base", server.url, "--resume", cwd=out.parent,
                   env={"OPENAI_API_KEY": "scripted"})
