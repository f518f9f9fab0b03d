"""vibeplot's performance figures, all measured in one run.

    uv run python benchmarks/bench.py [--repeat N]

Prints, with its target:
1. `vibeplot --help` wall time (median)                       target <= 0.3 s
2. a reference script through vibeplot's sandboxed runner,
   relative to bare `python script.py` (median ratio)           target <= 1.10
3. embedded-sample generation speed (1M events)               target >= 200k events/s
4. prompt tokens of the uproot_opendata stack for ADL Q1
   (litellm's token counter, gpt-4o tokenizer)                 target <= 5k tokens
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("VIBEPLOT_CACHE_DIR", tempfile.mkdtemp(prefix="vibeplot-bench-cache-"))

from vibeplot.core import llm, plugins, prompt, sandbox  # noqa: E402
from vibeplot.core.questions import registry  # noqa: E402
from vibeplot.core.sample import generate_sample  # noqa: E402
from vibeplot.datasets import embedded  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def help_time(repeat: int) -> float:
    exe = str(Path(sys.executable).with_name("vibeplot"))
    run = lambda: subprocess.run([exe, "--help"], check=True, capture_output=True)  # noqa: E731
    run()  # warm the OS file cache
    return statistics.median(timed(run) for _ in range(repeat))


def runner_ratio(repeat: int, workdir: Path) -> tuple[float, float, float]:
    stack = plugins.get_stack("uproot_opendata")
    script = workdir / "adl1.py"
    script.write_text(stack.reference_solution("adl-1").replace("{{dataset}}", str(embedded.ensure_sample())))
    env = sandbox.build_env()
    bare, ours = [], []
    for _ in range(repeat):  # interleaved, so drifts in machine load hit both alike
        bare.append(timed(lambda: subprocess.run([sys.executable, str(script)], cwd=workdir, env=env,
                                                 check=True, capture_output=True)))
        result = sandbox.run_script(script, workdir=workdir)
        assert result.ok, result.stderr
        ours.append(result.wall_seconds)
    b, o = statistics.median(bare), statistics.median(ours)
    return b, o, o / b


def generation_speed(workdir: Path, n_events: int = 1_000_000) -> float:
    return n_events / timed(lambda: generate_sample(workdir / "gen.root", n_events=n_events))


def prompt_tokens() -> int:
    stack = plugins.get_stack("uproot_opendata")
    q1 = registry()["adl-1"]
    first = prompt.first_prompt(stack, embedded.dataset(), q1.text)
    return sum(llm.count_tokens("gpt-4o", m["content"]) for m in first.messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        t_help = help_time(args.repeat)
        rows.append(("vibeplot --help", f"{t_help:.3f} s", "<= 0.3 s", t_help <= 0.3))
        bare, ours, ratio = runner_ratio(args.repeat, work)
        rows.append(("runner / bare python (ADL Q1)", f"{ratio:.3f} ({ours:.2f} s / {bare:.2f} s)", "<= 1.10",
                     ratio <= 1.10))
        speed = generation_speed(work)
        rows.append(("sample generation (1M events)", f"{speed:,.0f} events/s", ">= 200,000 events/s", speed >= 200_000))
        tokens = prompt_tokens()
        rows.append(("uproot_opendata prompt, ADL Q1", f"{tokens} tokens", "<= 5,000 tokens", tokens <= 5000))
    width = max(len(r[0]) for r in rows)
    print(f"{'figure'.ljust(width)}  measured  | target | status")
    for name, value, target, ok in rows:
        print(f"{name.ljust(width)}  {value}  | {target} | {'ok' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
