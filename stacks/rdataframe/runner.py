"""Run RDataFrame scripts: direct on local files, or after ServiceX delivery.

Mode: a file given with ``--dataset PATH`` or ``--dataset URL`` (``root://``,
``https://``, ``http://``) is read directly by RDataFrame (no ServiceX): ROOT reads
root:// with its own XRootD client and http(s):// with ``TWebFile``.  For an http(s)
dataset the script's ``$HOME`` gets ROOT's own configuration files to work around two
bugs of the PyPI wheel (ROOT 6.40): ``.rootrc`` registers ``TWebFile`` (:data:`ROOTRC`)
and ``.rootlogon.py`` keeps the process from corrupting its heap at exit
(:data:`ROOTLOGON`); the script itself is not changed.  Every other dataset goes
through ServiceX: the local ServiceX-compatible backend for local files and OpenData,
a real ServiceX for rucio DIDs — the ServiceX runner every ServiceX stack uses
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


#: ``$HOME/.rootrc`` of direct scripts on http(s).  ROOT 6.40's own handler for http(s) names the
#: constructor ``ROOT::Deprecated::TWebFile(...)``, which cling cannot call ("method
#: ROOT::Deprecated::TWebFile not found"), so ``TFile::Open("https://...")`` fails; handlers from
#: .rootrc come first.  TWebFile sends HTTP range requests, over TLS for https:// (it does not check
#: the server's certificate).
ROOTRC = 'Plugin.TFile: ^http[s]?:// ROOT::Deprecated::TWebFile Net "TWebFile(const char*,Option_t*)"\n'
#: ``$HOME/.rootlogon.py`` (PyROOT runs it when ROOT is set up) of direct scripts on http(s).  TWebFile
#: keeps its HTTP/1.1 socket (a TSSLSocket for https) open; at exit ROOT 6.40 closes it in
#: ``TROOT::CloseFiles`` and only then builds the socket classes' information, after thread-local storage
#: is destroyed (valgrind: writes into freed memory under ``TROOT::CloseFiles``).  With a pythonization of
#: ROOT classes (vibeplot's histogram hooks register some) the process then aborts or hangs after the
#: script is done.  Building that class information first avoids it.
ROOTLOGON = ("# vibeplot, rdataframe stack: see vibeplot.stacks.rdataframe.runner.ROOTLOGON\n"
             "import ROOT\n\nROOT.TClass.GetClass(\"TSocket\")\nROOT.TClass.GetClass(\"TSSLSocket\")\n")


def is_direct(dataset: Dataset) -> bool:
    return bool(dataset.metadata.get("given_as_path") or dataset.metadata.get("given_as_url"))


def root_home_files(dataset: Dataset) -> dict[str, Path]:
    """``$HOME`` files of a direct script: for an http(s) dataset :data:`ROOTRC` and :data:`ROOTLOGON`
    (written once into vibeplot's cache directory), else none."""
    from vibeplot.core import config
    from vibeplot.core.files import atomic_write

    if not dataset.location.lower().startswith(("http://", "https://")):
        return {}
    files = {}
    for name, text in ((".rootrc", ROOTRC), (".rootlogon.py", ROOTLOGON)):
        path = config.cache_dir() / "rdataframe" / name.lstrip(".")
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, text)
        files[name] = path
    return files


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
    """Direct mode on a local file: no network; on a URL, or through ServiceX, it needs one."""
    return not is_direct(dataset) or dataset.location.startswith(("http://", "https://", "root://"))


def run(script: Path, *, workdir: Path, limits: sandbox.Limits, dataset: Dataset) -> sandbox.RunResult:
    if is_direct(dataset):
        return sandbox.run_script(script, workdir=workdir, limits=limits,
                                  grant=sandbox.Grant(home_files=root_home_files(dataset)))
    return servicex_runner.run(script, workdir=workdir, limits=limits, dataset=dataset)
