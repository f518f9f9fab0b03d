"""Run a generated script as a file, in its own process group, within limits.

The script runs with ``cwd`` = its attempt directory, ``MPLBACKEND=Agg`` and
an environment built from an allow-list: no ``*_API_KEY``, token, password or
cloud credential of the user reaches it.  Limits:

* wall clock (``timeout``): the whole process group is killed;
* memory (``memory_mb``): the resident set size (RSS) of the process group is
  watched and the group killed when it goes over.  RSS, not ``RLIMIT_AS``:
  ROOT/cling, OpenBLAS and glibc's per-thread arenas reserve far more virtual
  address space than they touch (see README, "Sandbox"), so an address-space
  cap low enough to matter breaks them;
* CPU time (``cpu_seconds``): ``RLIMIT_CPU`` on the child.

stdout and stderr are kept whole on disk; :func:`tail` shortens them for prompts.

>>> result = run_script(Path("plot.py"), workdir=Path("attempt-01"))  # doctest: +SKIP
>>> result.ok, result.new_pngs                                         # doctest: +SKIP
(True, [PosixPath('attempt-01/met.png')])
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from . import config

#: Variables copied from the parent environment (plus every ``LC_*``).
ALLOWED_ENV = {
    "PATH", "LANG", "LANGUAGE", "TZ", "TERM", "TMPDIR", "USER", "LOGNAME", "SHELL",
    "VIRTUAL_ENV", "SSL_CERT_FILE", "SSL_CERT_DIR", "ROOTSYS", "LD_LIBRARY_PATH",
    "CPLUS_INCLUDE_PATH", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS",
}
#: Never passed on, even when allow-listed or given as extra variables by accident.
_SECRET = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION", re.I)


#: hooks every sandboxed script gets unless a caller names others: histogram sidecars
DEFAULT_HOOKS = ("vibeplot.core.capture_hook",)


@dataclass
class Limits:
    timeout: float = 600.0
    memory_mb: int = 4096
    cpu_seconds: int = 1800


@dataclass
class RunResult:
    returncode: int | None
    stdout_path: Path
    stderr_path: Path
    wall_seconds: float
    peak_rss_mb: float
    timed_out: bool = False
    memory_exceeded: bool = False
    new_pngs: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Success: exit code 0 and at least one new PNG."""
        return self.returncode == 0 and bool(self.new_pngs)

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def describe(self) -> str:
        if self.timed_out:
            return "killed at the wall-clock limit"
        if self.memory_exceeded:
            return f"killed at the memory limit ({self.peak_rss_mb:.0f} MB resident)"
        if self.returncode == -signal.SIGXCPU:
            return "killed at the CPU-time limit"
        if self.returncode != 0:
            return f"exit code {self.returncode}"
        if not self.new_pngs:
            return "exit code 0 but no PNG was written"
        return "ok"


def build_env(extra: dict[str, str] | None = None, *, allow_secrets: set[str] = frozenset(),
              hooks: list[str] = ()) -> dict[str, str]:
    """The child's environment: allow-listed variables, never credentials.

    ``allow_secrets`` names variables from ``extra`` that may look like
    credentials but must pass (a stack's own, e.g. a ServiceX token file).
    ``hooks`` are modules imported before the script starts (see
    ``core/_startup/sitecustomize.py``).
    """
    env = {
        k: v for k, v in os.environ.items()
        if (k in ALLOWED_ENV or k.startswith("LC_")) and not _SECRET.search(k)
    }
    home = config.cache_dir() / "sandbox-home"
    (home / ".config" / "matplotlib").mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        MPLBACKEND="Agg",
        MPLCONFIGDIR=str(home / ".config" / "matplotlib"),
        XDG_CACHE_HOME=str(home / ".cache"),
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONNOUSERSITE="1",
    )
    for key, value in (extra or {}).items():
        if _SECRET.search(key) and key not in allow_secrets:
            continue
        env[key] = value
    if hooks:
        env["PYTHONPATH"] = str(Path(__file__).parent / "_startup")
        env["VIBEPLOT_HOOKS"] = ",".join(hooks)
    return env


def _pngs(directory: Path) -> dict[Path, float]:
    return {p: p.stat().st_mtime_ns for p in directory.rglob("*.png")}


def _group_rss(proc: psutil.Process) -> float:
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


_recording: contextvars.ContextVar[Path | None] = contextvars.ContextVar("vibeplot_recording", default=None)


@contextlib.contextmanager
def recording_values(path: Path):
    """Within this block, scripts run with the default hooks also record the values they
    histogram into ``path`` (:mod:`vibeplot.core.values_hook`); used for reference runs,
    whatever runner a stack has."""
    token = _recording.set(Path(path).resolve())
    try:
        yield
    finally:
        _recording.reset(token)


def run_script(
    script: Path,
    *,
    workdir: Path,
    limits: Limits | None = None,
    extra_env: dict[str, str] | None = None,
    allow_secrets: set[str] = frozenset(),
    hooks: list[str] | None = None,
    python: str = sys.executable,
    poll_seconds: float = 0.1,
) -> RunResult:
    """Run ``python script`` in ``workdir`` under ``limits``; see the module docstring."""
    limits = limits or Limits()
    workdir = Path(workdir)
    if hooks is None and (values_path := _recording.get()) is not None:
        hooks = [*DEFAULT_HOOKS, "vibeplot.core.values_hook"]
        extra_env = {**(extra_env or {}), "VIBEPLOT_RECORD_VALUES": str(values_path)}
    before = _pngs(workdir)
    stdout_path, stderr_path = workdir / "stdout.txt", workdir / "stderr.txt"
    start = time.perf_counter()
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        child = subprocess.Popen(
            [python, str(Path(script).resolve())],
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=build_env(extra_env, allow_secrets=allow_secrets, hooks=DEFAULT_HOOKS if hooks is None else hooks),
            process_group=0,
        )
    pgid = child.pid
    try:
        resource.prlimit(child.pid, resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    except (ProcessLookupError, PermissionError):
        pass
    proc = psutil.Process(child.pid)
    peak = 0.0
    timed_out = memory_exceeded = False
    try:
        while True:
            try:
                child.wait(timeout=poll_seconds)
                break
            except subprocess.TimeoutExpired:
                pass
            peak = max(peak, _group_rss(proc))
            if peak > limits.memory_mb:
                memory_exceeded = True
            elif time.perf_counter() - start > limits.timeout:
                timed_out = True
            if memory_exceeded or timed_out:
                _kill_group(pgid)
                child.wait()
                break
    finally:
        # Also ends anything the script left running in its group.
        _kill_group(pgid)
        if child.poll() is None:
            child.wait()
    wall = time.perf_counter() - start
    after = _pngs(workdir)
    new = sorted(p for p, mtime in after.items() if before.get(p) != mtime)
    return RunResult(
        returncode=child.returncode,
        stdout_path=stdout_path,
        stderr_path=stderr_path,
        wall_seconds=wall,
        peak_rss_mb=peak,
        timed_out=timed_out,
        memory_exceeded=memory_exceeded,
        new_pngs=new,
    )


def tail(text: str, max_lines: int = 40, max_chars: int = 4000) -> str:
    """The end of ``text``, shortened for a prompt, saying how much was cut."""
    lines = text.rstrip().splitlines()
    cut = lines[-max_lines:]
    out = "\n".join(cut)
    if len(out) > max_chars:
        out = out[-max_chars:]
    dropped = len(text.rstrip()) - len(out)
    return (f"[... {dropped} earlier characters cut ...]\n" if dropped > 0 else "") + out
