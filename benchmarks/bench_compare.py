"""`vibeplot compare` concurrency: wall time with --jobs 8 against --jobs 1, measured in one run.

    uv run python benchmarks/bench_compare.py [--latency 2.0] [--trials 3]

A scripted OpenAI-compatible server on 127.0.0.1 answers every call after ``--latency`` seconds
(2 s, a typical hosted-model reply) with the uproot_opendata reference solution of the question
asked.  The compare is 8 questions (ADL 1-8) × 2 models (openai/gpt-4o-mini, openai/gpt-4o)
× 3 trials on uproot_opendata, no baseline: 48 cells, each a full ask run with validation
(truth values are recorded once, before timing).  Prints both wall times, the ratio
(target >= 5), the mean script time per cell, and the speed-up bound of this machine: model
calls overlap freely, but scripts share the cores (``RUN_SLOTS``), so with S seconds of script
per cell and C cores no schedule beats (serial seconds per cell) / max(that / 8, S / C).
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()

    sample = embedded.ensure_sample()
    questions = [q.id for q in select("adl")]
    base = Path(tempfile.mkdtemp(prefix="vibeplot-bench-compare-"))
    timings = {}
    with ScriptedServer([reply_with_reference(sample)], latency=args.latency) as server:
        def options(jobs: int) -> CompareOptions:
            return CompareOptions(questions=questions, stacks=["uproot_opendata"], models=MODELS,
                                  trials=args.trials, jobs=jobs, out=base / f"jobs{jobs}", api_base=server.url,
                                  baseline=False)

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
    ratio = timings[1] / timings[8]
    cores = os.cpu_count() or 1
    cell = timings[1] / result.ran  # serial seconds per cell: model latency + script + bookkeeping
    bound = cell / max(cell / 8, script / cores)  # scripts cannot overlap beyond the core count
    print(f"speed-up --jobs 8 vs --jobs 1: {ratio:.2f}x   (target >= 5x)")
    print(f"  bound on this machine: {bound:.2f}x ({cores} cores for scripts of {script:.2f} s, "
          f"{cell:.2f} s per cell serially)")


if __name__ == "__main__":
    main()
