"""Throughput of the ADL reference solutions: rdataframe (direct mode, with and without
implicit multi-threading) against uproot_opendata, all measured in one run.

    uv run python benchmarks/bench_rdataframe.py [--events 1000000] [--repeat 3]

Every reference script runs as its own process on one generated sample (the
placeholder substituted, vibeplot's sandbox environment, no capture hooks) and
the wall time of the whole process is measured: Python and ROOT start-up,
cling's just-in-time compilation, reading, the event loop and drawing the PNGs;
events/s is events / that wall time.  The rdataframe scripts run unmodified
through a tiny wrapper (``runpy.run_path``) that turns on RDataFrame's own
timing log (JIT and event-loop seconds, reported in a second table) and, for
the MT variant, calls ``ROOT.EnableImplicitMT()`` first.  The runs of one
question are interleaved and the best of ``--repeat`` runs is kept, so other
load on the machine disturbs the figures as little as possible.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("VIBEPLOT_CACHE_DIR", tempfile.mkdtemp(prefix="vibeplot-bench-cache-"))

from vibeplot.core.sandbox import run as sandbox  # noqa: E402
from vibeplot.datasets.sample import generate_sample  # noqa: E402

STACKS = Path(__file__).resolve().parents[1] / "stacks"
SCRIPTS = {
    "uproot": STACKS / "uproot_opendata" / "references",
    "rdf": STACKS / "rdataframe" / "references" / "direct",
}
QUESTIONS = [f"adl{i}" for i in range(1, 9)]
VARIANTS = ("uproot", "rdf", "rdf-MT")
RDF_WRAPPER = """\
import runpy
import sys

import ROOT

# RDataFrame logs its JIT and event-loop times at Info level.
verbosity = ROOT.ROOT.RLogScopedVerbosity(ROOT.ROOT.Detail.RDF.RDFLogChannel(), ROOT.ROOT.ELogLevel.kInfo)
if sys.argv[1] == "--mt":
    ROOT.EnableImplicitMT()
    del sys.argv[1]
script = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name="__main__")
"""
JIT = re.compile(r"Just-in-time compilation phase completed in (?:([\d.]+) seconds|less than 1ms)")
LOOP = re.compile(r"Finished event loop number \d+ \(([\d.]+)s CPU, ([\d.]+)s elapsed\)")


def run(argv: list[str], workdir: Path, env: dict[str, str]) -> tuple[float, str, str]:
    """Wall time, stdout and stderr of one run; a failing run stops the benchmark."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *argv], cwd=workdir, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed in {workdir}:\n{proc.stderr[-3000:]}")
    return wall, proc.stdout, proc.stderr


def rdf_times(stderr: str) -> tuple[float, float]:
    """Seconds of JIT and of event loops (elapsed), summed over the script's event loops."""
    jit = sum(float(m.group(1) or 0) for m in JIT.finditer(stderr))
    loops = sum(float(m.group(2)) for m in LOOP.finditer(stderr))
    return jit, loops


def measure(name: str, sample: Path, work: Path, env: dict[str, str], repeat: int) -> dict:
    """Best wall time of each variant, RDF's JIT/loop seconds of that run, MT output check."""
    scripts = {}
    for kind, folder in SCRIPTS.items():
        scripts[kind] = work / f"{kind}_{name}.py"
        scripts[kind].write_text((folder / f"{name}.py").read_text().replace("{{dataset}}", str(sample)))
    wrapper = str(work / "rdf_wrapper.py")
    argvs = {
        "uproot": [str(scripts["uproot"])],
        "rdf": [wrapper, str(scripts["rdf"])],
        "rdf-MT": [wrapper, "--mt", str(scripts["rdf"])],
    }
    best: dict[str, tuple[float, str, str]] = {}
    for _ in range(repeat):
        for variant, argv in argvs.items():
            workdir = work / name / variant
            workdir.mkdir(parents=True, exist_ok=True)
            result = run(argv, workdir, env)
            if variant not in best or result[0] < best[variant][0]:
                best[variant] = result
    return {
        "wall": {v: best[v][0] for v in VARIANTS},
        "rdf": {v: rdf_times(best[v][2]) for v in ("rdf", "rdf-MT")},
        "same": best["rdf"][1] == best["rdf-MT"][1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per script; the fastest counts")
    args = parser.parse_args()
    env = sandbox.build_env()
    n = args.events
    results = {}
    with tempfile.TemporaryDirectory(prefix="vibeplot-bench-rdf-") as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        sample = generate_sample(work / "sample.root", n_events=n)
        print(f"sample: {n:,} events generated in {time.perf_counter() - start:.1f} s; "
              f"{os.cpu_count()} CPU(s); best of {args.repeat} run(s) per script")
        (work / "rdf_wrapper.py").write_text(RDF_WRAPPER)
        # Warm the OS file cache for the interpreters and libraries before timing anything.
        run(["-c", "import ROOT, awkward, hist, mplhep, uproot, vector"], work, env)
        for name in QUESTIONS:
            results[name] = measure(name, sample, work, env, args.repeat)
            print(f"  {name}: " + ", ".join(f"{v} {w:.2f} s" for v, w in results[name]["wall"].items()), flush=True)

    print(f"\nWhole script runs on {n:,} events (wall time of the process: start-up, JIT, reading, loop, drawing)")
    print("ratios are throughput ratios (> 1: the first is faster)")
    head = (f"{'':<6} | {'uproot s':>8} {'rdf s':>7} {'rdf-MT s':>8} | {'uproot ev/s':>11} {'rdf ev/s':>11} "
            f"{'rdf-MT ev/s':>11} | {'rdf/uproot':>10} {'rdf-MT/rdf':>10}")
    print(head)
    print("-" * len(head))
    total = {v: 0.0 for v in VARIANTS}
    for name, r in results.items():
        w = r["wall"]
        for v in VARIANTS:
            total[v] += w[v]
        print(f"{name:<6} | {w['uproot']:8.2f} {w['rdf']:7.2f} {w['rdf-MT']:8.2f} | {n / w['uproot']:11,.0f} "
              f"{n / w['rdf']:11,.0f} {n / w['rdf-MT']:11,.0f} | {w['uproot'] / w['rdf']:10.2f} "
              f"{w['rdf'] / w['rdf-MT']:10.2f}")
    print("-" * len(head))
    m = n * len(results)
    print(f"{'all 8':<6} | {total['uproot']:8.2f} {total['rdf']:7.2f} {total['rdf-MT']:8.2f} | "
          f"{m / total['uproot']:11,.0f} {m / total['rdf']:11,.0f} {m / total['rdf-MT']:11,.0f} | "
          f"{total['uproot'] / total['rdf']:10.2f} {total['rdf'] / total['rdf-MT']:10.2f}")

    print("\nInside the rdataframe runs (RDataFrame's own log, same runs as above)")
    head = (f"{'':<6} | {'JIT s':>6} {'loop s':>7} {'loop ev/s':>11} | {'MT JIT s':>8} {'MT loop s':>9} "
            f"{'MT loop ev/s':>12} | {'MT/rdf loop':>11} | MT output")
    print(head)
    print("-" * len(head))
    for name, r in results.items():
        (jit, loop), (mt_jit, mt_loop) = r["rdf"]["rdf"], r["rdf"]["rdf-MT"]
        print(f"{name:<6} | {jit:6.2f} {loop:7.2f} {n / loop:11,.0f} | {mt_jit:8.2f} {mt_loop:9.2f} "
              f"{n / mt_loop:12,.0f} | {loop / mt_loop:11.2f} | {'same' if r['same'] else 'DIFFERS'}")


if __name__ == "__main__":
    main()
