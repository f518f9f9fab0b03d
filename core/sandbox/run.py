"""Run a generated script as a file, isolated, within limits; collect what it made.

The script runs with ``cwd`` = its attempt directory, ``MPLBACKEND=Agg`` and an
environment built from an allow-list: no ``*_API_KEY``, token, password or cloud
credential of the user reaches it.  Where bubblewrap works it runs in a sandbox
(:mod:`vibeplot.core.sandbox.isolation`: read-only file system, empty home, own PID and
network namespaces); elsewhere it runs unisolated, with a warning, unless
isolation is required.  Limits (:class:`Limits`):

* wall clock (``timeout``): every process of the script is killed;
* memory (``memory_mb``): the resident set size (RSS) of all its processes is
  watched and they are killed when it goes over.  RSS, not ``RLIMIT_AS``:
  ROOT/cling, OpenBLAS and glibc's per-thread arenas reserve far more virtual
  address space than they touch (see README, "Sandbox"), so an address-space
  cap low enough to matter breaks them;
* CPU time (``cpu_seconds``): ``RLIMIT_CPU`` on the child;
* output (``output_mb``): stdout and stderr are read through pipes; each keeps its
  first and last ``output_mb / 2`` MB on disk, with a line saying what was cut;
* plots: a PNG counts only when it is a regular file that starts with the PNG
  signature and is at most ``png_max_mb``; at most ``max_plots`` of them;
* other formats (``extra_formats``, e.g. ``("pdf",)``): the capture start-up module also saves
  each PNG's figure as ``NAME.pdf``/``NAME.svg``; such a file is kept only when it passes
  :func:`check_extra` (a regular file, at most ``png_max_mb``, the format's signature, an SVG
  without scripts, event handlers or external references) and is deleted otherwise.

Files the script can write are never trusted: vibeplot writes ``stdout.txt``,
``stderr.txt``, the histogram sidecars (``NAME.png.json``) and their UHI form
(``NAME.png.uhi.json``, :mod:`vibeplot.core.sandbox.uhi_json`) itself after the
script has ended, from what it received through pipes the script's files cannot
reach, and reads nothing of the attempt directory through a symbolic link.

>>> result = run_script(Path("plot.py"), workdir=Path("attempt-01"))  # doctest: +SKIP
>>> result.ok, result.new_pngs, result.isolation                       # doctest: +SKIP
(True, [PosixPath('attempt-01/met.png')], 'bubblewrap')
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import json
import os
import re
import resource
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from vibeplot.core import config

from vibeplot.core.sandbox import isolation, uhi_json, warm
from vibeplot.core.sandbox.isolation import Grant

#: Variables copied from the parent environment (plus every ``LC_*``).
ALLOWED_ENV = {
    "PATH", "LANG", "LANGUAGE", "TZ", "TERM", "USER", "LOGNAME", "SHELL",
    "VIRTUAL_ENV", "SSL_CERT_FILE", "SSL_CERT_DIR", "ROOTSYS", "LD_LIBRARY_PATH",
    "CPLUS_INCLUDE_PATH", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS",
}
#: Never passed on, even when allow-listed or given as extra variables by accident.
_SECRET = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION", re.I)
#: the start-up modules' channel to vibeplot: an inherited pipe, named by this variable (see child/channel)
CAPTURE_FD_ENV = "VIBEPLOT_CAPTURE_FD"
#: where a reference run's recorded values go (see child/values); vibeplot writes that file
VALUES_ENV = "VIBEPLOT_RECORD_VALUES"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: most bytes of start-up module records accepted from one run (recorded values of a reference run are large)
_CAPTURE_CAP = 256 * 2**20

#: start-up modules every sandboxed script gets unless a caller names others: histogram capture
DEFAULT_STARTUP = ("vibeplot.core.sandbox.child.capture",)


@dataclass
class Limits:
    timeout: float = config.DEFAULT_SCRIPT_TIMEOUT
    memory_mb: int = config.DEFAULT_MEMORY_MB
    cpu_seconds: int = 1800
    #: stdout and stderr each keep this much on disk (first and last halves)
    output_mb: float = 10.0
    #: a PNG larger than this is not a plot
    png_max_mb: float = 50.0
    #: more PNGs than this in one run: not a plot
    max_plots: int = 20
    #: "auto", "required" or "none"; None: the setting (``VIBEPLOT_ISOLATION``, config) or auto
    isolation: str | None = None
    #: formats each PNG is also saved in ("pdf", "svg"), by the capture start-up module
    extra_formats: tuple[str, ...] = ()


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
    #: "bubblewrap" or "none"
    isolation: str = isolation.NONE
    #: PNG-looking files that were refused, with the reason ("met.png: not a PNG image")
    rejected: list[str] = field(default_factory=list)
    #: bytes of stdout/stderr cut to keep the files within Limits.output_mb
    cut_bytes: int = 0
    #: "warm" (a pre-imported worker, :mod:`vibeplot.core.sandbox.warm`) or "cold" (a new interpreter)
    worker: str = "cold"
    #: warm only: seconds from the request to the script's first line
    startup_seconds: float | None = None
    #: warm only: CPU seconds of the script's process (and the children it waited for)
    cpu_seconds: float | None = None
    #: per plot, the other formats kept (``Limits.extra_formats``): {"met.png": ["met.pdf"]}
    extra_files: dict[str, list[str]] = field(default_factory=dict)
    #: other-format files that were refused and deleted, with the reason (the plots still count)
    extra_rejected: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Success: exit code 0 and at least one new PNG, none refused."""
        return self.returncode == 0 and bool(self.new_pngs) and not self.rejected

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
        if self.rejected:
            return "exit code 0 but " + "; ".join(self.rejected)
        if not self.new_pngs:
            return "exit code 0 but no PNG was written"
        return "ok"


def sandbox_home() -> Path:
    """The scripts' home when they run without isolation (a folder in vibeplot's cache)."""
    home = config.cache_dir() / "sandbox-home"
    (home / ".config" / "matplotlib").mkdir(parents=True, exist_ok=True)
    return home


def build_env(extra: dict[str, str] | None = None, *, allow_secrets: set[str] = frozenset(),
              startup: list[str] = (), home: str | None = None) -> dict[str, str]:
    """The child's environment: allow-listed variables, never credentials.

    ``allow_secrets`` names variables from ``extra`` that may look like
    credentials but must pass (a stack's own, e.g. a ServiceX token file).
    ``startup`` names modules imported before the script starts (see
    ``core/sandbox/child/_startup/sitecustomize.py``).  ``home``: the script's ``HOME``
    (default: :func:`sandbox_home`).
    """
    env = {
        k: v for k, v in os.environ.items()
        if (k in ALLOWED_ENV or k.startswith("LC_")) and not _SECRET.search(k)
    }
    home = home or str(sandbox_home())
    env.update(
        HOME=home,
        TMPDIR="/tmp",
        MPLBACKEND="Agg",
        MPLCONFIGDIR=f"{home}/.config/matplotlib",
        XDG_CACHE_HOME=f"{home}/.cache",
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONNOUSERSITE="1",
    )
    for key, value in (extra or {}).items():
        if _SECRET.search(key) and key not in allow_secrets:
            continue
        env[key] = value
    if startup:
        env["PYTHONPATH"] = str(Path(__file__).parent / "child" / "_startup")
        env["VIBEPLOT_STARTUP"] = ",".join(startup)
    return env


# -- reading what the script left, never through a link ------------------------------------------


def read_safely(path: Path, max_bytes: int) -> bytes | None:
    """``path``'s bytes if it is a regular file (not a link, FIFO or device) of at most
    ``max_bytes``; None otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        return file.read(max_bytes + 1)[:max_bytes]


def write_fresh(path: Path, data: bytes) -> None:
    """Replace whatever is at ``path`` (a file, a link the script put there) with ``data``."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as file:
        file.write(data)


def _files(directory: Path, suffix: str) -> list[Path]:
    """Regular files and links named ``*suffix`` under ``directory``, links to folders not followed."""
    found = []
    for folder, dirs, names in os.walk(directory, followlinks=False):
        found.extend(Path(folder) / n for n in names if n.endswith(suffix))
    return sorted(found)


def _stamp(path: Path):
    with contextlib.suppress(OSError):
        info = os.lstat(path)
        return info.st_mtime_ns, info.st_ino, info.st_size
    return None


def _not_a_capped_file(path: Path, max_bytes: int, missing: str) -> str | None:
    """Why ``path`` (not followed if a link) is not a regular file of at most ``max_bytes``, or None."""
    try:
        info = os.lstat(path)
    except OSError:
        return f"{path.name} {missing}"
    if not stat.S_ISREG(info.st_mode):
        return f"{path.name} is not a regular file"
    if info.st_size > max_bytes:
        return f"{path.name} is {info.st_size / 2**20:.0f} MB, over the {max_bytes / 2**20:.0f} MB cap"
    return None


def _check_png(path: Path, max_bytes: int) -> str | None:
    """Why ``path`` is not a plot, or None when it is one."""
    problem = _not_a_capped_file(path, max_bytes, missing="vanished")
    if problem:
        return problem
    try:  # only the signature is read, never through a link
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return f"{path.name} is not a PNG image"
    try:
        head = os.read(fd, len(PNG_SIGNATURE)) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
    finally:
        os.close(fd)
    return None if head == PNG_SIGNATURE else f"{path.name} is not a PNG image"


#: formats a plot may also be saved in (``Limits.extra_formats``) and the bytes each file starts with
EXTRA_FORMATS = {"pdf": (b"%PDF-",), "svg": (b"<?xml", b"<svg")}
#: what an SVG from matplotlib or ROOT never holds and a browser would run or fetch
_SVG_ACTIVE = re.compile(rb"<\s*script|<\s*foreignobject|javascript:|\son[a-z]+\s*=|<\s*!entity|"
                         rb"(?:xlink:)?href\s*=\s*[\"'](?!#)|url\(\s*[\"']?(?!#)", re.I)


def check_extra(path: Path, fmt: str, max_bytes: int) -> str | None:
    """Why ``path`` is not a plot in format ``fmt`` (a key of :data:`EXTRA_FORMATS`), or None when it is.

    Like the PNG check: a regular file (never read through a link), at most ``max_bytes``, starting
    with the format's signature; an SVG is also read whole and refused when it holds anything active
    or external (scripts, event handlers, ``javascript:``, entities, links to anything but ``#id``).
    """
    problem = _not_a_capped_file(path, max_bytes, missing="is missing")
    if problem:
        return problem
    data = read_safely(path, max_bytes)
    if data is None:
        return f"{path.name} could not be read"
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(EXTRA_FORMATS[fmt]):
        return f"{path.name} is not {'an' if fmt == 'svg' else 'a'} {fmt.upper()} file"
    if fmt == "svg" and (b"<svg" not in data[:4096] or _SVG_ACTIVE.search(data)):
        return f"{path.name} is not a plain SVG drawing (scripts, handlers or external references)"
    return None


def _collect_extras(workdir: Path, plots: list[Path], formats: tuple[str, ...], before: dict,
                    max_bytes: int) -> tuple[dict[str, list[str]], list[str]]:
    """The other-format files of ``plots`` that pass :func:`check_extra`; the others are deleted."""
    kept, rejected = {}, []
    for png in plots:
        for fmt in formats:
            other = png.with_suffix("." + fmt)
            if _stamp(other) is None or before.get(other) == _stamp(other):
                continue  # not there, or there before the run and untouched: not this plot's
            why = check_extra(other, fmt, max_bytes)
            if why is None:
                kept.setdefault(png.name, []).append(other.name)
            else:
                rejected.append(why)
                with contextlib.suppress(OSError):
                    os.unlink(other)
    return kept, rejected


# -- the script's output streams and the capture channel ------------------------------------------


class _Capped(threading.Thread):
    """Drains a pipe into a private temporary file: the first half of ``cap`` bytes, then a
    rolling tail of the last half, in bounded memory."""

    def __init__(self, fd: int, cap: int):
        super().__init__(daemon=True)
        self.fd, self.half = fd, max(1, cap // 2)
        self.file = tempfile.TemporaryFile()
        self.total = 0
        self.tail: collections.deque[bytes] = collections.deque()
        self.tail_bytes = 0

    def run(self) -> None:
        with contextlib.suppress(OSError):
            while chunk := os.read(self.fd, 1 << 16):
                room = self.half - min(self.total, self.half)
                self.total += len(chunk)
                if room:
                    self.file.write(chunk[:room])
                    chunk = chunk[room:]
                if chunk:
                    self.tail.append(chunk)
                    self.tail_bytes += len(chunk)
                    while self.tail_bytes - len(self.tail[0]) >= self.half:
                        self.tail_bytes -= len(self.tail.popleft())
        os.close(self.fd)

    def finish(self, target: Path) -> int:
        """Write what was kept to ``target``; return the number of bytes cut."""
        tail = b"".join(self.tail)[-self.half:]
        cut = self.total - min(self.total, self.half) - len(tail)
        self.file.seek(0)
        data = self.file.read()
        self.file.close()
        if cut > 0:
            data += f"\n[... vibeplot cut {cut} bytes of output here ...]\n".encode()
        write_fresh(target, data + tail)
        return max(cut, 0)


class _Records(threading.Thread):
    """Reads the start-up modules' records (JSON lines) from the capture pipe: histograms drawn
    (``{"image", "axes"}``) and recorded values (``{"values": [...]}``)."""

    def __init__(self, fd: int):
        super().__init__(daemon=True)
        self.fd, self.records, self.values, self.size = fd, [], None, 0

    def run(self) -> None:
        buffer = b""
        with contextlib.suppress(OSError):
            while chunk := os.read(self.fd, 1 << 16):
                self.size += len(chunk)
                if self.size > _CAPTURE_CAP:
                    continue  # keep draining so the script is not blocked, but keep no more
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    with contextlib.suppress(ValueError):
                        record = json.loads(line)
                        if isinstance(record, dict) and isinstance(record.get("image"), str):
                            self.records.append(record)
                        elif isinstance(record, dict) and isinstance(record.get("values"), list):
                            self.values = record["values"]
        os.close(self.fd)


# -- process tree --------------------------------------------------------------------------------


def _tree(proc: psutil.Process, seen: dict[int, float]) -> float:
    """RSS in MB of ``proc`` and its descendants; adds them to ``seen`` (pid -> create time)."""
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for member in members:
        try:
            total += member.memory_info().rss
            seen.setdefault(member.pid, member.create_time())
        except psutil.Error:
            pass
    return total / 2**20


class _Cold:
    """A script in a new interpreter (a ``bwrap`` or ``python`` child), seen from the watch loop."""

    worker = "cold"
    startup_seconds = cpu_seconds = None

    def __init__(self, child: subprocess.Popen, isolated: bool):
        self.child, self.isolated = child, isolated
        self.proc, self.seen = psutil.Process(child.pid), {}

    def wait(self, timeout: float) -> bool:
        try:
            self.child.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def rss(self) -> float:
        return _tree(self.proc, self.seen)

    def stop(self) -> None:
        _kill_all(self.child, self.seen)
        if self.child.poll() is None:
            self.child.wait()

    @property
    def returncode(self) -> int | None:
        code = self.child.returncode
        if self.isolated and code is not None and code > 128 and (code - 128) in _SIGNALS:
            return 128 - code  # bwrap reports a signal death as 128 + N: same as without it
        return code


def _kill_all(child: subprocess.Popen, seen: dict[int, float]) -> None:
    """SIGKILL the child's process group, its descendants and every descendant seen before
    (a process that left the group with setsid is still one of them)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
    with contextlib.suppress(psutil.Error):
        for member in psutil.Process(child.pid).children(recursive=True):
            seen.setdefault(member.pid, member.create_time())
    for pid, created in seen.items():
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pid)
            if proc.create_time() == created:
                proc.kill()


_recording: contextvars.ContextVar[Path | None] = contextvars.ContextVar("vibeplot_recording", default=None)
_granted: contextvars.ContextVar[Grant] = contextvars.ContextVar("vibeplot_grant", default=Grant())


@contextlib.contextmanager
def recording_values(path: Path):
    """Within this block, scripts run with the default start-up modules also record the values they
    histogram into ``path`` (:mod:`vibeplot.core.sandbox.child.values`); used for reference runs,
    whatever runner a stack has."""
    token = _recording.set(Path(path).resolve())
    try:
        yield
    finally:
        _recording.reset(token)


@contextlib.contextmanager
def granting(grant: Grant):
    """Within this block, every script also gets ``grant`` (network, read-only files):
    the ask loop grants what the stack and dataset need, whatever runner the stack has."""
    token = _granted.set(_granted.get().merge(grant))
    try:
        yield
    finally:
        _granted.reset(token)


def _mpl_font_cache(python: str) -> list[Path]:
    """matplotlib's font list, built once on the host, bound read-only into each sandbox."""
    folder = config.cache_dir() / "sandbox-mpl"
    files = sorted(folder.glob("fontlist-*.json"))
    if files:
        return files
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([python, "-c", "import matplotlib.font_manager"], env={**build_env(), "MPLCONFIGDIR": str(folder)},
                   capture_output=True, timeout=300, check=False)
    return sorted(folder.glob("fontlist-*.json"))


#: sets RLIMIT_CPU and becomes the script (run inside bubblewrap)
_SET_CPU_LIMIT = ("import os, resource, sys; n = int(sys.argv[1]); "
                  "resource.setrlimit(resource.RLIMIT_CPU, (n, n + 5)); os.execv(sys.argv[2], sys.argv[2:])")
_SIGNALS = {int(s) for s in signal.Signals}


def run_script(
    script: Path,
    *,
    workdir: Path,
    limits: Limits | None = None,
    extra_env: dict[str, str] | None = None,
    allow_secrets: set[str] = frozenset(),
    startup: list[str] | None = None,
    python: str = sys.executable,
    poll_seconds: float = 0.1,
    grant: Grant | None = None,
) -> RunResult:
    """Run ``python script`` in ``workdir`` under ``limits``; see the module docstring.

    ``grant``: what the script may reach besides its attempt directory (added to what
    :func:`granting` grants).  Raises ConfigError when isolation is required and missing.
    """
    limits = limits or Limits()
    workdir = Path(workdir).resolve()
    grant = _granted.get().merge(grant or Grant())
    chosen = isolation.choose(isolation.mode(limits.isolation))
    if startup is None and (values_path := _recording.get()) is not None:
        startup = [*DEFAULT_STARTUP, "vibeplot.core.sandbox.child.values"]
        extra_env = {**(extra_env or {}), VALUES_ENV: str(values_path)}
    startup = DEFAULT_STARTUP if startup is None else startup
    argv = [python, str(Path(script).resolve())]
    if chosen.available:  # the CPU cap is set inside, before the script starts (-S: no start-up modules)
        argv = [python, "-S", "-c", _SET_CPU_LIMIT, str(limits.cpu_seconds), *argv]
        env = build_env(extra_env, allow_secrets=allow_secrets, startup=startup, home=isolation.SANDBOX_HOME)
        argv = isolation.bwrap_argv(argv, workdir=workdir, grant=grant, tmp_mb=limits.memory_mb,
                                    mpl_files=_mpl_font_cache(python))
    else:
        isolation.warning_once(chosen.detail)
        home = sandbox_home()
        for name, source in grant.home_files.items():  # a link, never a copy of a credential
            with contextlib.suppress(FileNotFoundError):
                os.unlink(home / name)
            os.symlink(Path(source).expanduser().resolve(), home / name)
        env = build_env(extra_env, allow_secrets=allow_secrets, startup=startup)
    before = {p: _stamp(p) for suffix in (".png", *("." + f for f in limits.extra_formats))
              for p in _files(workdir, suffix)}
    unknown = [f for f in limits.extra_formats if f not in EXTRA_FORMATS]
    if unknown:
        raise ValueError(f"unknown plot format(s) {', '.join(unknown)}; known: png, {', '.join(EXTRA_FORMATS)}")
    if limits.extra_formats:
        env["VIBEPLOT_EXTRA_FORMATS"] = ",".join(limits.extra_formats)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    cap_r, cap_w = os.pipe()
    env[CAPTURE_FD_ENV] = str(cap_w)
    cap = int(limits.output_mb * 2**20)
    readers = [_Capped(out_r, cap), _Capped(err_r, cap)]
    records = _Records(cap_r)
    start = time.perf_counter()
    job = None
    try:
        if chosen.available and (pool := warm.active()) is not None:  # a warm worker, else cold
            job = pool.begin(Path(script), workdir=workdir, env=env, cpu_seconds=limits.cpu_seconds,
                             fds=(out_w, err_w, cap_w), python=python, grant=grant, tmp_mb=limits.memory_mb)
        if job is None:
            job = _Cold(subprocess.Popen(argv, cwd=workdir, stdin=subprocess.DEVNULL, stdout=out_w, stderr=err_w,
                                         env=env, process_group=0, pass_fds=(cap_w,)), isolated=chosen.available)
    finally:
        for fd in (out_w, err_w, cap_w):
            os.close(fd)
    for thread in (*readers, records):
        thread.start()
    if not chosen.available:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            resource.prlimit(job.child.pid, resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    peak = 0.0
    timed_out = memory_exceeded = False
    try:
        while not job.wait(poll_seconds):
            peak = max(peak, job.rss())
            if peak > limits.memory_mb:
                memory_exceeded = True
            elif time.perf_counter() - start > limits.timeout:
                timed_out = True
            if memory_exceeded or timed_out:
                break
    finally:
        # Ends whatever the script left running (also when vibeplot is interrupted here).
        job.stop()
        for thread in (*readers, records):
            thread.join(timeout=5)  # an escaped process may hold a pipe open: do not wait for it
    wall = time.perf_counter() - start
    returncode = job.returncode
    if job.worker == "warm":  # its files are in the attempt directory now (job.stop)
        for record in records.records:
            record["image"] = job.local_path(record["image"])
    stdout_path, stderr_path = workdir / "stdout.txt", workdir / "stderr.txt"
    cut = readers[0].finish(stdout_path) + readers[1].finish(stderr_path)
    if job.worker == "warm" and job.note:  # the worker itself failed during the script (it was replaced)
        with open(stderr_path, "a", encoding="utf-8") as err:  # the file write_fresh just made
            err.write(f"\n[vibeplot: {job.note}]\n")
    new, rejected = _collect_pngs(workdir, before, limits, records.records)
    extras, extra_rejected = _collect_extras(workdir, new, tuple(limits.extra_formats), before,
                                             int(limits.png_max_mb * 2**20))
    if (values_target := (extra_env or {}).get(VALUES_ENV)):  # only what came through the pipe counts
        with contextlib.suppress(FileNotFoundError):
            os.unlink(values_target)
        if records.values is not None:
            write_fresh(Path(values_target), json.dumps(records.values).encode())
    return RunResult(
        returncode=returncode,
        stdout_path=stdout_path,
        stderr_path=stderr_path,
        wall_seconds=wall,
        peak_rss_mb=peak,
        timed_out=timed_out,
        memory_exceeded=memory_exceeded,
        new_pngs=new,
        isolation=chosen.mechanism,
        rejected=rejected,
        cut_bytes=cut,
        worker=job.worker,
        startup_seconds=job.startup_seconds,
        cpu_seconds=job.cpu_seconds,
        extra_files=extras,
        extra_rejected=extra_rejected,
    )


def _collect_pngs(workdir: Path, before: dict, limits: Limits, records: list[dict]) -> tuple[list[Path], list[str]]:
    """The new plots, checked, each with the sidecar and the UHI file vibeplot writes from the
    capture records; every sidecar or UHI file the script wrote itself is removed."""
    for forged in (*_files(workdir, ".png.json"), *_files(workdir, ".png" + uhi_json.SUFFIX)):
        with contextlib.suppress(OSError):
            os.unlink(forged)
    new = [p for p in _files(workdir, ".png") if before.get(p) != _stamp(p)]
    checked = {p: _check_png(p, int(limits.png_max_mb * 2**20)) for p in new}
    rejected = [why for why in checked.values() if why]
    plots = [p for p, why in checked.items() if why is None]
    if len(plots) > limits.max_plots:
        rejected.append(f"{len(plots)} PNG files were written, more than the cap of {limits.max_plots}")
    latest = {}
    for record in records:  # the last record for an image describes what the PNG holds
        latest[os.path.normpath(os.path.join(workdir, record["image"]))] = record
    for png in plots:
        record = latest.get(str(png))
        if record is not None:
            record = {"image": str(png), "axes": record.get("axes", [])}
            write_fresh(png.with_name(png.name + ".json"), json.dumps(record).encode())
            write_fresh(uhi_json.path_for(png), uhi_json.dumps(record))
    return plots, rejected


#: packages nearly every generated script imports
SCRIPT_PACKAGES = ("numpy", "matplotlib", "awkward", "uproot", "hist", "vector", "servicex")


def missing_bytecode(packages=SCRIPT_PACKAGES) -> list[str]:
    """The installed ``packages`` whose ``__init__`` has no ``.pyc`` beside it.

    Scripts see the Python environment read-only, so they cannot cache bytecode: without it
    installed, every attempt compiles its imports again (seconds each; ``vibeplot doctor`` says
    so).  pip writes bytecode at install time; uv does with ``--compile-bytecode``.

    >>> missing_bytecode(["json"]), missing_bytecode(["no_such_package_here"])
    ([], [])
    """
    import importlib.util

    missing = []
    for name in packages:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        origin = spec and spec.origin
        if origin and origin.endswith(".py") and not os.path.exists(importlib.util.cache_from_source(origin)):
            missing.append(name)
    return missing


def tail(text: str, max_lines: int = 40, max_chars: int = 4000) -> str:
    """The end of ``text``, shortened for a prompt, saying how much was cut."""
    lines = text.rstrip().splitlines()
    cut = lines[-max_lines:]
    out = "\n".join(cut)
    if len(out) > max_chars:
        out = out[-max_chars:]
    dropped = len(text.rstrip()) - len(out)
    return (f"[... {dropped} earlier characters cut ...]\n" if dropped > 0 else "") + out
