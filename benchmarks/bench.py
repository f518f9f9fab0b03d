"""vibeplot's performance figures, all measured in one run.

    uv run python benchmarks/bench.py [--repeat N]

Prints, with its target:
1. `vibeplot --help` wall time (median)                       target <= 0.3 s
2. a reference script through vibeplot's runner, relative to
   bare `python script.py` (median ratio): with bubblewrap     target <= 1.15
   isolation (where it works) and without                     target <= 1.10
   bubblewrap's own start-up (`bwrap ... -- true`)            reported
3. embedded-sample generation speed (1M events)               target >= 200k events/s
4. prompt tokens of the uproot_opendata stack for ADL Q1
   (litellm's token counter, gpt-4o tokenizer)                 target <= 5k tokens
5. local ServiceX backend: deliver latency of the ADL Q1 query
   with the unmodified client (backend already running)       reported (client polls every ~5 s)
6. prompt tokens of the servicex_awkward stack for ADL Q1,
   on the embedded sample and on a PHYSLITE dataset           target <= 5k tokens
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

from vibeplot.core import plugins  # noqa: E402

from vibeplot.core.ask import llm

from vibeplot.core.ask import prompt

from vibeplot.core.sandbox import run as sandbox
from vibeplot.core.questions import registry  # noqa: E402
from vibeplot.datasets.sample import generate_sample  # noqa: E402
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


def runner_ratio(repeat: int, workdir: Path, isolation: str) -> tuple[float, float, float]:
    stack = plugins.get_stack("uproot_opendata")
    script = workdir / "adl1.py"
    sample = embedded.ensure_sample()
    script.write_text(stack.reference_solution("adl-1").replace("{{dataset}}", str(sample)))
    env = sandbox.build_env()
    limits = sandbox.Limits(isolation=isolation)
    bare, ours = [], []
    for _ in range(repeat):  # interleaved, so drifts in machine load hit both alike
        bare.append(timed(lambda: subprocess.run([sys.executable, str(script)], cwd=workdir, env=env,
                                                 check=True, capture_output=True)))
        result = sandbox.run_script(script, workdir=workdir, limits=limits,
                                    grant=sandbox.Grant(read_only=(sample,)))
        assert result.ok, result.stderr
        ours.append(result.wall_seconds)
    b, o = statistics.median(bare), statistics.median(ours)
    return b, o, o / b


def bwrap_startup(repeat: int, workdir: Path) -> float:
    """Median seconds of ``bwrap`` (vibeplot's flags and binds) running ``true``."""
    from vibeplot.core.sandbox import isolation

    argv = isolation.bwrap_argv(["true"], workdir=workdir, grant=sandbox.Grant(), tmp_mb=4096)
    return statistics.median(timed(lambda: subprocess.run(argv, check=True)) for _ in range(max(5, repeat)))


def generation_speed(workdir: Path, n_events: int = 1_000_000) -> float:
    return n_events / timed(lambda: generate_sample(workdir / "gen.root", n_events=n_events))


def prompt_tokens(stack_name: str = "uproot_opendata", dataset=None) -> int:
    stack = plugins.get_stack(stack_name)
    q1 = registry()["adl-1"]
    first = prompt.first_prompt(stack, dataset or embedded.dataset(), q1.text)
    return sum(llm.count_tokens("gpt-4o", m["content"]) for m in first.messages)


def deliver_latency(workdir: Path, repeat: int) -> list[float]:
    """Seconds per deliver() of the ADL Q1 query against a running local backend (no client cache)."""
    from servicex import Sample, ServiceXSpec, dataset, deliver, query

    from vibeplot.core.servicex.local import LocalServiceX

    sample = str(embedded.ensure_sample())
    times = []
    with LocalServiceX(log_path=workdir / "sx.log") as backend:
        for i in range(repeat):
            config = backend.write_config(workdir / f"run{i}")  # fresh client cache each time
            q = query.FuncADL_Uproot().FromTree("Events").Select(lambda e: {"met": e.MET_pt})
            spec = ServiceXSpec(Sample=[Sample(Name="adl1", Dataset=dataset.FileList([sample]), NFiles=1, Query=q)])
            times.append(timed(lambda: deliver(spec, config_path=str(config), progress_bar="none")))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        t_help = help_time(args.repeat)
        rows.append(("vibeplot --help", f"{t_help:.3f} s", "<= 0.3 s", t_help <= 0.3))
        from vibeplot.core.sandbox import isolation

        if isolation.probe().available:
            bare, ours, ratio = runner_ratio(args.repeat, work, "required")
            rows.append(("runner (bubblewrap) / bare python (ADL Q1)", f"{ratio:.3f} ({ours:.2f} s / {bare:.2f} s)",
                         "<= 1.15", ratio <= 1.15))
            startup = bwrap_startup(args.repeat, work)
            rows.append(("bubblewrap start-up (bwrap ... -- true)", f"{startup * 1000:.1f} ms", "reported", True))
        else:
            rows.append(("runner (bubblewrap) / bare python (ADL Q1)", isolation.probe().detail, "<= 1.15", False))
        bare, ours, ratio = runner_ratio(args.repeat, work, "none")
        rows.append(("runner (no isolation) / bare python (ADL Q1)", f"{ratio:.3f} ({ours:.2f} s / {bare:.2f} s)",
                     "<= 1.10", ratio <= 1.10))
        speed = generation_speed(work)
        rows.append(("sample generation (1M events)", f"{speed:,.0f} events/s", ">= 200,000 events/s", speed >= 200_000))
        tokens = prompt_tokens()
        rows.append(("uproot_opendata prompt, ADL Q1", f"{tokens} tokens", "<= 5,000 tokens", tokens <= 5000))
        latencies = deliver_latency(work, max(2, args.repeat // 2))
        rows.append(("local ServiceX deliver, ADL Q1", f"median {statistics.median(latencies):.2f} s "
                     f"(min {min(latencies):.2f} s, n={len(latencies)})", "reported", True))
        from vibeplot.core.resolver import Dataset

        physlite = Dataset(name="physlite", title="a PHYSLITE dataset", format="physlite", experiment="ATLAS",
                           location="mc23_13p6TeV:mc23_13p6TeV.601237.PhPy8EG_A14_ttbar_hdamp258p75_allhad."
                                    "deriv.DAOD_PHYSLITE.e8514_s4369_r16083_p6697")
        sx_flat, sx_physlite = prompt_tokens("servicex_awkward"), prompt_tokens("servicex_awkward", physlite)
        rows.append(("servicex_awkward prompt, ADL Q1", f"{sx_flat} tokens (PHYSLITE: {sx_physlite})",
                     "<= 5,000 tokens", max(sx_flat, sx_physlite) <= 5000))
    width = max(len(r[0]) for r in rows)
    print(f"{'figure'.ljust(width)}  measured  | target | status")
    for name, value, target, ok in rows:
        print(f"{name.ljust(width)}  {value}  | {target} | {'ok' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
