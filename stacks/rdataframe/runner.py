"""Run RDataFrame scripts: direct on local files, or after ServiceX delivery.

Mode: a file given with ``--dataset PATH`` is read directly by RDataFrame
(no ServiceX).  Every other dataset goes through ServiceX: the local
ServiceX-compatible backend for local files and OpenData, a real ServiceX for
rucio DIDs — the ServiceX runner every ServiceX stack uses
(:mod:`vibeplot.core.servicex.runner`).

Before any model is called, :func:`check_dataset` makes sure ROOT imports and
cling finds the C++ standard headers, so a missing install costs one clear
message instead of a wasted LLM call.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

from vibeplot.core.sandbox import run as sandbox
from vibeplot.core.resolver import Dataset
from vibeplot.core.errors import ConfigError
from vibeplot.core.servicex import runner as servicex_runner

_PROBE = """
import ROOT
ok = ROOT.gInterpreter.Declare('#include <vector>\\n#include <cmath>\\nint vibeplot_probe() { std::vector<int> v{1, 2}; return v.size(); }')
assert ok and ROOT.vibeplot_probe() == 2, "cling could not compile a line using <vector>"
print(ROOT.gROOT.GetVersion())
"""


def is_direct(dataset: Dataset) -> bool:
    return bool(dataset.metadata.get("given_as_path"))


@functools.cache
def root_problem() -> str | None:
    """None when ROOT and its C++ headers work; else what is wrong (checked once per process)."""
    try:
        probe = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return "ROOT did not start within 120 s"
    if probe.returncode == 0:
        return None
    err = probe.stderr
    if "No module named 'ROOT'" in err:
        return "ROOT is not installed"
    if "file not found" in err or "cling could not compile" in err:
        return "cling cannot find the C++ standard headers"
    return "ROOT does not start: " + (err.strip().splitlines() or ["(no message)"])[-1][:300]


def check_dataset(dataset: Dataset) -> None:
    problem = root_problem()
    if problem == "ROOT is not installed":
        raise ConfigError("the rdataframe stack needs ROOT, which is not installed",
                          hint="install it with: pip install 'vibeplot[rdataframe]' (or uv sync --extra rdataframe)")
    if problem == "cling cannot find the C++ standard headers":
        raise ConfigError("ROOT is installed but cling cannot find the C++ standard headers",
                          hint="install g++ (Debian/Ubuntu: apt-get install g++)")
    if problem:
        raise ConfigError(f"the rdataframe stack cannot use ROOT: {problem}")
    if not is_direct(dataset):
        servicex_runner.check_dataset(dataset)


def needs_network(dataset: Dataset) -> bool:
    """Direct mode reads a local file: no network; through ServiceX it needs one."""
    return not is_direct(dataset) or dataset.location.startswith(("http://", "https://", "root://"))


def run(script: Path, *, workdir: Path, limits: sandbox.Limits, dataset: Dataset) -> sandbox.RunResult:
    if is_direct(dataset):
        return sandbox.run_script(script, workdir=workdir, limits=limits)
    return servicex_runner.run(script, workdir=workdir, limits=limits, dataset=dataset)
