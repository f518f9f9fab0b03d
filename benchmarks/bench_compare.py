"""`vibeplot compare` concurrency: wall time with --jobs 8 against --jobs 1, measured in one run.

    uv run python benchmarks/bench_compare.py [--latency 2.0] [--trials 3] [--only jobs|servicex]

A scripted OpenAI-compatible server on 127.0.0.1 answers every call after ``--latency`` seconds
(2 s, a typical hosted-model reply) with the uproot_opendata reference solution of the question
asked.  The compare is 8 questions (ADL 1-8) × 2 models (openai/gpt-4o-mini, openai/gpt-4o)
× 3 trials on uproot_opendata, no baseline: 48 cells, each a full ask run with validation
(truth values are recorded once, before timing).  Prints both wall times, the ratio
(target >= 5), the mean script time per cell, and the speed-up bound of this machine: model
calls overlap freely, but scripts share the cores (``RUN_SLOTS``), so with S seconds of script
per cell and C cores no schedule beats (serial seconds per cell) / max(that / 8, S / C).
Scripts run in warm workers (``vibeplot.core.sandbox.warm``; ``--cold``: new interpreters), and the
section first prints the per-script overhead of ``run_script`` cold and warm (an empty script, one
importing the scientific stack; target: warm <= 1 s), then per cell the script's start-up and CPU.

ServiceX section (``--only servicex`` runs it alone): ``vibeplot ask -m reference`` on ``--question``
(default adl-1), on servicex_awkward with one local ServiceX backend shared by every run as a compare
shares it (up before timing, ``$VIBEPLOT_LOCAL_SERVICEX``), and on uproot_opendata; ``--repeat``
times each, alternating.  Prints both wall times (median), the ratio (target <= 1.5) and, from the
backend's log, how long each deliver waited between submitting and fetching its results.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("VIBEPLOT_CACHE_DIR", tempfile.mkdtemp(prefix="vibeplot-bench-cache-"))
os.environ.setdefault("OPENAI_API_KEY", "scripted")

from vibeplot.core import plugins  # noqa: E402
from vibeplot.core.bench.compare import CompareOptions, load_results, prepare_truth, run_compare  # noqa: E402
from vibeplot.core.questions import registry, select  # noqa: E402
from vibeplot.testing.scripted_server import ScriptedServer  # noqa: E402
from vibeplot.datasets import embedded  # noqa: E402

MODELS = ["openai/gpt-4o-mini", "openai/gpt-4o"]


def reply_with_reference(sample: Path):
    stack = plugins.get_stack("uproot_opendata")

    def reply(messages):
        user = messages[-1]["content"]
        qid = max((q.id for q in registry().values() if q.text in user), key=lambda i: len(registry()[i].text))
        code = stack.reference_solution(qid).replace("{{dataset}}", str(sample))
        return f"- Reference for {qid}.\n\n```python\n{code}```\n"

    return reply


def reference_ask(stack: str, qid: str, out: Path, env: dict) -> float:
    """Wall seconds of ``vibeplot ask -m reference`` as a user runs it; fails unless the plot is correct."""
    import json
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("vibeplot")
    start = time.perf_counter()
    proc = subprocess.run([str(exe), "ask", "-m", "reference", "-s", stack, "--out", str(out), "--no-cache",
                           registry()[qid].text], capture_output=True, text=True, env={**os.environ, **env})
    seconds = time.perf_counter() - start
    runs = sorted(out.glob("*/run.json"))
    manifest = json.loads(runs[-1].read_text()) if runs else {}
    verdict = (manifest.get("verdict") or {}).get("status", "no verdict")
    if proc.returncode != 0 or verdict != "correct":
        raise SystemExit(f"{stack} {qid}: exit {proc.returncode}, {verdict}: {proc.stderr[-2000:]}")
    script = manifest.get("totals", {}).get("script_seconds", 0.0)
    print(f"  {stack:17s} {seconds:6.1f} s  (script {script:.1f} s; {runs[-1].parent})")
    return seconds


def servicex_section(qid: str, repeat: int) -> None:
    """servicex_awkward against uproot_opendata: ``ask -m reference``, one local backend shared by every run."""
    import re
    import statistics
    from datetime import datetime

    from vibeplot.core.servicex.local.launcher import SHARED_ENV, LocalServiceX

    base = Path(tempfile.mkdtemp(prefix="vibeplot-bench-servicex-"))
    log = base / "servicex-backend.log"
    prepare_truth(CompareOptions(questions=[qid], stacks=["uproot_opendata", "servicex_awkward"], models=[],
                                 out=base / "truth"))  # truth values cached before timing
    times: dict[str, list[float]] = {"uproot_opendata": [], "servicex_awkward": []}
    with LocalServiceX(log_path=log) as backend:  # as a compare shares it: up before the runs
        env = {SHARED_ENV: backend.url}
        print(f"ServiceX vs uproot: vibeplot ask -m reference, {qid}, {repeat} run(s) each:")
        for i in range(repeat):
            for stack in times:
                times[stack].append(reference_ask(stack, qid, base / f"{stack}-{i}", env))
    sx, up = statistics.median(times["servicex_awkward"]), statistics.median(times["uproot_opendata"])
    print(f"servicex_awkward ask {sx:.1f} s, uproot_opendata ask {up:.1f} s (medians): "
          f"ratio {sx / up:.2f}   (target <= 1.5)")
    text, stamp = log.read_text(), r"^(\S+ \S+) INFO "
    posts = re.findall(stamp + r"POST /servicex/transformation -> 200 request_id=(\S+)", text, re.M)
    fetched = {rid: at for at, rid in reversed(re.findall(stamp + r"GET /servicex/transformation/([^/ ]+)/results",
                                                            text, re.M))}
    done = {rid: at for at, rid in re.findall(stamp + r"request (\S+) \(.*\) Complete", text, re.M)}

    def seconds(a: str, b: str) -> float:
        return (datetime.strptime(b, "%Y-%m-%d %H:%M:%S,%f") - datetime.strptime(a, "%Y-%m-%d %H:%M:%S,%f")).total_seconds()

    for at, rid in posts:
        if rid in fetched and rid in done:
            print(f"  request {rid[:8]}: transform done {seconds(at, done[rid]):.2f} s after submit, results "
                  f"fetched after {seconds(at, fetched[rid]):.2f} s (the client sleeps 5 s before its first look)")


def overhead_line() -> None:
    """The per-script overhead of run_script, cold against warm (see warm.measure_overhead)."""
    from vibeplot.core.sandbox import warm

    o = warm.measure_overhead(repeats=3)
    print(f"per-script overhead (run_script, median of 3): empty script cold {o['cold_empty']:.2f} s, "
          f"warm {o['warm_empty']:.2f} s (start-up {o['warm_startup']:.2f} s, request to first line); "
          f"importing numpy/awkward/uproot/vector/hist/mplhep/matplotlib cold {o['cold_imports']:.2f} s, "
          f"warm {o['warm_imports']:.2f} s   (target: warm <= 1 s)")


def cell_script_line(out: Path, rows: list[dict]) -> None:
    """Per cell: the script's start-up overhead and CPU seconds (warm workers record both in run.json)."""
    import json
    import statistics

    runs = [a["run"] for r in rows for a in json.loads((out / r["run_dir"] / "run.json").read_text())["attempts"]
            if "run" in a]
    workers = {w: sum(r.get("worker") == w for r in runs) for w in ("warm", "cold")}
    startup = [r["startup_seconds"] for r in runs if "startup_seconds" in r]
    cpu = [r["cpu_seconds"] for r in runs if "cpu_seconds" in r]
    if startup:
        print(f"  per-cell script overhead: start-up {statistics.median(startup):.2f} s median, "
              f"{max(startup):.2f} s max; script CPU {statistics.mean(cpu):.2f} s mean "
              f"({workers['warm']} warm, {workers['cold']} cold runs)")
    else:
        print(f"  per-cell script overhead: not measured ({workers['warm']} warm, {workers['cold']} cold runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--only", choices=["jobs", "servicex"], default=None, help="run one section")
    parser.add_argument("--question", default="adl-1", help="the ServiceX section's question")
    parser.add_argument("--repeat", type=int, default=2, help="the ServiceX section's runs per stack")
    parser.add_argument("--cold", action="store_true", help="the jobs section without warm workers")
    args = parser.parse_args()
    if args.only != "jobs":
        servicex_section(args.question, args.repeat)
    if args.only == "servicex":
        return

    sample = embedded.ensure_sample()
    overhead_line()
    questions = [q.id for q in select("adl")]
    base = Path(tempfile.mkdtemp(prefix="vibeplot-bench-compare-"))
    timings = {}
    with ScriptedServer([reply_with_reference(sample)], latency=args.latency) as server:
        def options(jobs: int) -> CompareOptions:
            return CompareOptions(questions=questions, stacks=["uproot_opendata"], models=MODELS,
                                  trials=args.trials, jobs=jobs, out=base / f"jobs{jobs}", api_base=server.url,
                                  baseline=False, warm=not args.cold)

        prepare_truth(options(1))  # truth values cached before timing
        for jobs in (1, 8):
            start = time.perf_counter()
            result = run_compare(options(jobs))
            timings[jobs] = time.perf_counter() - start
            rows = load_results(base / f"jobs{jobs}").to_pylist()
            correct = sum(r["verdict"] == "correct" for r in rows)
            script = sum(r["script_seconds"] for r in rows) / len(rows)
            print(f"--jobs {jobs}: {timings[jobs]:6.1f} s wall for {result.ran} cells "
                  f"({correct} correct; mean script {script:.2f} s, model latency {args.latency:.1f} s per call)")
            cell_script_line(base / f"jobs{jobs}", rows)
    ratio = timings[1] / timings[8]
    cores = os.cpu_count() or 1
    cell = timings[1] / result.ran  # serial seconds per cell: model latency + script + bookkeeping
    bound = cell / max(cell / 8, script / cores)  # scripts cannot overlap beyond the core count
    print(f"speed-up --jobs 8 vs --jobs 1: {ratio:.2f}x   (target >= 5x)")
    print(f"  bound on this machine: {bound:.2f}x ({cores} cores for scripts of {script:.2f} s, "
          f"{cell:.2f} s per cell serially)")


if __name__ == "__main__":
    main()
