"""Warm script workers: scripts start in an interpreter that has already imported the scientific stack.

Importing numpy, uproot, awkward, vector, hist, matplotlib and mplhep costs a generated
script seconds of CPU before its first line runs; on a busy machine that dominates a
``vibeplot compare``.  Within :func:`workers` (the compare uses it by default),
:func:`vibeplot.core.sandbox.run.run_script` runs each isolated script through a *worker
slot* instead of a new interpreter:

* one slot = one bubblewrap sandbox, built by :func:`vibeplot.core.sandbox.isolation.bwrap_argv`
  with the same flags as a cold run (read-only file system, empty home, own user, PID, IPC
  and network namespaces, no capabilities, the same :class:`~vibeplot.core.sandbox.isolation.Grant`),
  whose PID 1 is a fork server (:mod:`vibeplot.core.sandbox.child.warm_server`) started
  with the scripts' sanitised environment (plus one thread for OpenBLAS/OpenMP, so no thread
  exists at fork time) that imports :data:`WARM_MODULES` once;
* per script the server forks a child from its pristine state: nothing a script changes in
  its interpreter (``numpy.pi = 3``, an rcParam, a monkeypatch) reaches the next one, and the
  server never reads a request itself (the child does), so no script's environment is ever
  in the memory the next one is forked from.  The child gets its own session, ``RLIMIT_CPU``,
  working directory, ``os.environ``, the stdout/stderr/capture pipes (passed as file
  descriptors), imports the start-up modules exactly as ``sitecustomize`` does for a cold
  run, and runs the script as ``__main__``;
* the wall-clock and memory limits are enforced by vibeplot as for a cold run, on the
  server's descendants only (the server's own pre-imported pages are not the script's);
  when the script ends or is killed, the server kills every other process of the
  sandbox, empties ``/tmp`` and ``/dev/shm``, restores ``/dev`` and removes System V IPC
  objects before it reports;
* the writable place is a per-slot folder (bound at its own path, like a cold run's
  attempt directory): before each script vibeplot makes a fresh job folder in it with a
  copy of the attempt directory's top-level regular files (the script, a ServiceX
  ``servicex.yaml``; a small file that names the attempt directory by its path names the job
  folder in its copy, e.g. the ServiceX client's cache), and afterwards moves what the script created or changed into the
  attempt directory (a rename, or a copy that never follows a link) and empties the slot
  folder, so no other run's files are ever visible to a script;
* a script cannot end or stop its server (PID 1 of its namespace ignores SIGKILL and
  SIGSTOP from inside, and has no other handler) nor ptrace it or read its memory (not
  dumpable); a slot whose server died anyway (killed from outside) is dropped and a new
  one started for the next script; that script's run reports what happened to it.

Slots are keyed by (python, grant, ``/tmp`` size): a script needing another grant (the
network for ServiceX, another dataset file, a ``servicex.yaml`` in its home) gets a slot
of its own; at most ``size`` slots exist (default: twice the core count, so a compare mixing
two grants keeps an idle server of each; a server is about 130 MB resident), and an idle slot
of another key is closed to make room.  Whenever the warm path cannot be used — no
bubblewrap, a server that fails to start, a slot that dies before the script starts — the
script runs cold, exactly as without workers.  ``run.json`` records ``worker``
(``warm``/``cold``) and the measured ``startup_seconds`` of every warm attempt.

Differences from a cold run, by design: OpenBLAS keeps the one thread it was loaded with
(``*_NUM_THREADS`` set by vibeplot for the server only; the scripts' environment is
unchanged); files the script deletes from its job folder stay in the attempt directory;
POSIX message queues and the user keyring of the slot's namespaces are not reset (a
channel between two cooperating scripts, not a way to change what another script sees).
ROOT is not pre-imported (cling after fork is not robust): ROOT scripts still run in a
warm slot, importing ROOT themselves.

>>> with workers() as pool:  # doctest: +SKIP
...     run_script(Path("plot.py"), workdir=Path("attempt-01")).worker
'warm'
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from vibeplot.core import config
from vibeplot.core.sandbox import isolation

#: imported once by each server (those that are not installed are skipped)
WARM_MODULES = ("numpy", "awkward", "uproot", "vector", "hist", "hist.plot", "matplotlib", "matplotlib.pyplot",
                "mplhep")
SERVER = Path(__file__).parent / "child" / "warm_server.py"
_STARTUP_DIR = Path(__file__).parent / "child" / "_startup"
#: seconds a server may take to import :data:`WARM_MODULES`
START_TIMEOUT = 300.0
#: attempt-directory files bigger than this are not copied into the job folder
COPY_MAX_BYTES = 64 * 2**20
#: set for the server only: no OpenBLAS/OpenMP thread, nor pyarrow's jemalloc thread (awkward imports
#: pyarrow), exists when it forks
_ONE_THREAD = {**{name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                         "NUMEXPR_NUM_THREADS")},
               "JE_ARROW_MALLOC_CONF": "background_thread:false"}


class WarmError(Exception):
    """The warm path cannot run this script (it then runs cold)."""


def _grant_key(grant: isolation.Grant) -> tuple:
    return (grant.network, tuple(sorted(str(Path(p).expanduser().resolve()) for p in grant.read_only)),
            tuple(sorted((k, str(Path(v).expanduser().resolve())) for k, v in grant.home_files.items())))


def _remove_tree(path: Path) -> None:
    """Remove ``path`` whatever a script did to its permissions, never following a link."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(info.st_mode):
        with contextlib.suppress(OSError):
            os.chmod(path, 0o700)
        with contextlib.suppress(OSError):
            for name in os.listdir(path):
                _remove_tree(path / name)
        with contextlib.suppress(OSError):
            os.rmdir(path)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _copy_entry(src: Path, dst: Path) -> None:
    """Copy a regular file, a folder or a link (as a link); anything else is left out."""
    info = os.lstat(src)
    if stat.S_ISLNK(info.st_mode):
        os.symlink(os.readlink(src), dst)
    elif stat.S_ISDIR(info.st_mode):
        os.mkdir(dst, 0o755)
        with contextlib.suppress(OSError):
            os.chmod(src, 0o700)
        for name in os.listdir(src):
            _copy_entry(src / name, dst / name)
    elif stat.S_ISREG(info.st_mode):
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as source, open(dst, "xb") as target:
            shutil.copyfileobj(source, target)


def _point_to(copy: Path, workdir: Path, job_dir: Path) -> None:
    """In a small copied file that names the attempt directory by its absolute path (a ServiceX
    ``servicex.yaml`` puts its cache there), name the job folder instead: the script then writes
    where a cold run would have, and those files come back with the rest."""
    if copy.stat().st_size > 2**20:
        return
    data = copy.read_bytes()
    old = os.fsencode(workdir)
    if old in data:
        new = os.fsencode(job_dir)
        copy.write_bytes(re.sub(re.escape(old) + rb"(?![\w.-])", lambda _: new, data))


def _move(src: Path, dst: Path) -> None:
    """Put ``src`` at ``dst``, merging into a real folder there, replacing anything else, never
    writing through a link."""
    src_info = os.lstat(src)
    try:
        dst_info = os.lstat(dst)
    except FileNotFoundError:
        dst_info = None
    if dst_info is not None:
        if stat.S_ISDIR(dst_info.st_mode) and stat.S_ISDIR(src_info.st_mode):
            with contextlib.suppress(OSError):
                os.chmod(src, 0o700)
            for name in os.listdir(src):
                _move(src / name, dst / name)
            return
        _remove_tree(dst)
    try:
        os.rename(src, dst)
    except OSError:  # another file system
        _copy_entry(src, dst)


def _stamp(path: Path):
    with contextlib.suppress(OSError):
        info = os.lstat(path)
        return info.st_mtime_ns, info.st_ino, info.st_size, info.st_mode
    return None


class _Slot:
    """One sandbox with its fork server, and its folder (see the module docstring)."""

    def __init__(self, key: tuple, python: str, grant: isolation.Grant, tmp_mb: int, folder: Path,
                 modules: tuple[str, ...], popen):
        from vibeplot.core.sandbox import run

        self.key, self.folder, self.jobs, self.dead = key, folder, 0, False
        folder.mkdir(mode=0o700)
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {**run.build_env(home=isolation.SANDBOX_HOME), **_ONE_THREAD, "PYTHONPATH": str(_STARTUP_DIR)}
        argv = [python, str(SERVER), str(theirs.fileno()), ",".join(modules)]
        cmd = isolation.bwrap_argv(argv, workdir=folder, grant=grant, tmp_mb=tmp_mb,
                                   mpl_files=run._mpl_font_cache(python), as_pid_1=True)
        self.log = tempfile.TemporaryFile()
        try:
            self.proc = popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, env=env,
                              pass_fds=(theirs.fileno(),), process_group=0)
        finally:
            theirs.close()
        try:
            ready = self._receive(START_TIMEOUT)
            if not ready.get("ready"):
                raise WarmError(f"the worker did not start: {self._log_tail()}")
            self.modules, self.threads = ready.get("modules", []), ready.get("threads")
            self.server = self._server_process()
        except BaseException:
            self.close()
            raise

    def _server_process(self) -> psutil.Process:
        """The server, seen from here: bwrap's only child (it is PID 1 of the sandbox)."""
        for _ in range(100):
            with contextlib.suppress(psutil.Error):
                children = psutil.Process(self.proc.pid).children()
                if children:
                    return children[0]
            time.sleep(0.01)
        raise WarmError("the worker's process was not found")

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            self.log.seek(0)
            lines = self.log.read().decode(errors="replace").strip().splitlines()
            return lines[-1][:300] if lines else f"exit code {self.proc.poll()}"
        return "no log"

    def _receive(self, timeout: float) -> dict:
        """The next message from the server or its child; ``{}`` on timeout; WarmError when it is gone."""
        ready, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not ready:
            return {}
        try:
            data = self.sock.recv(1 << 16)
        except OSError as err:
            raise WarmError(f"the worker is gone: {err}") from None
        if not data:
            raise WarmError(f"the worker is gone: {self._log_tail()}")
        return json.loads(data)

    def alive(self) -> bool:
        return not self.dead and self.proc.poll() is None

    def begin(self, script: Path, workdir: Path, env: dict, cpu_seconds: int, fds) -> "_Job":
        """Send the script to the server's waiting child; WarmError when that fails (nothing ran)."""
        if not self.alive():
            raise WarmError("the worker is not running")
        self.jobs += 1
        job_dir = self.folder / f"job-{self.jobs}"
        job_dir.mkdir(mode=0o755)
        for entry in os.scandir(workdir):  # what a cold run finds in its working directory
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_size <= COPY_MAX_BYTES:
                    _copy_entry(Path(entry.path), job_dir / entry.name)
                    _point_to(job_dir / entry.name, workdir, job_dir)
        script = Path(script).resolve()
        try:
            inside = job_dir / script.relative_to(workdir)
        except ValueError:
            inside = job_dir / script.name
        if not inside.exists():
            inside.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(script, inside)
        stamps = {name: _stamp(job_dir / name) for name in os.listdir(job_dir)}
        try:
            while self._receive(0.0):  # a report of a waiting child that died (killed from outside): stale
                pass
        except WarmError:
            self.dead = True
            self.empty()
            raise
        request = {"script": str(inside), "cwd": str(job_dir), "env": env, "cpu_seconds": int(cpu_seconds),
                   "capture_env": "VIBEPLOT_CAPTURE_FD"}
        sent = time.time()
        try:
            socket.send_fds(self.sock, [json.dumps(request).encode()], list(fds))
        except OSError as err:
            self.dead = True
            self.empty()
            raise WarmError(f"the worker is gone: {err}") from None
        return _Job(self, job_dir, workdir, stamps, sent)

    def kill_scripts(self) -> None:
        """SIGKILL every process of the sandbox but the server (it cleans up and reports)."""
        with contextlib.suppress(psutil.Error):
            for proc in self.server.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    proc.kill()

    def empty(self) -> None:
        for name in os.listdir(self.folder):
            _remove_tree(self.folder / name)

    def close(self) -> None:
        self.dead = True
        with contextlib.suppress(OSError):
            self.sock.close()  # the waiting child reads EOF and exits, then the server
        proc = getattr(self, "proc", None)
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, 9)
                proc.wait()
        self.log.close()
        _remove_tree(self.folder)


class _Job:
    """One script in a slot, seen from :func:`~vibeplot.core.sandbox.run.run_script`'s watch loop."""

    worker = "warm"

    def __init__(self, slot: _Slot, job_dir: Path, workdir: Path, stamps: dict, sent: float):
        self.slot, self.job_dir, self.workdir, self.stamps, self.sent = slot, job_dir, workdir, stamps, sent
        self.pool: WarmPool | None = None
        self.returncode: int | None = None
        self.startup_seconds: float | None = None
        self.cpu_seconds: float | None = None
        self.note = ""

    def wait(self, timeout: float) -> bool:
        """True once the script and everything it started have ended (the server reported)."""
        deadline = time.monotonic() + timeout
        while self.returncode is None:
            try:
                message = self.slot._receive(deadline - time.monotonic())
            except WarmError as err:
                self.slot.dead = True
                self.returncode, self.note = -9, str(err)
                break
            if not message:
                return False
            if "started" in message and self.startup_seconds is None:
                self.startup_seconds = max(0.0, float(message["started"]) - self.sent)
            if "exit" in message:
                self.returncode, self.cpu_seconds = int(message["exit"]), message.get("cpu")
        return True

    def rss(self) -> float:
        """Resident MB of every process of the sandbox but the server."""
        total = 0
        with contextlib.suppress(psutil.Error):
            for proc in self.slot.server.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
        return total / 2**20

    def stop(self) -> None:
        """Kill what still runs (a limit was hit) and wait for the server's report (a server that does
        not report in 10 s is ended with its sandbox); then move the script's files into the attempt
        directory and give the slot back."""
        try:
            if self.returncode is None:
                self.slot.kill_scripts()
                if not self.wait(10.0):
                    self.slot.dead = True
                    self.returncode, self.note = -9, "the worker did not report"
            if self.slot.dead:  # its sandbox ends with it: nothing may still write in the job folder
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.slot.proc.pid, 9)
                self.slot.proc.wait()
            self._bring_back()
        finally:
            self.pool.release(self.slot)

    def _bring_back(self) -> None:
        """Move what the script created or changed into the attempt directory; empty the slot folder."""
        try:
            for name in os.listdir(self.job_dir):
                src = self.job_dir / name
                if name in self.stamps and _stamp(src) == self.stamps[name]:
                    continue  # the copy vibeplot put there, untouched
                with contextlib.suppress(OSError):
                    _move(src, self.workdir / name)
        finally:
            self.slot.empty()

    def local_path(self, image: str) -> str:
        """A path the script saw (in its job folder) as a path in the attempt directory."""
        image = os.path.normpath(image)
        job = str(self.job_dir)
        if image == job or image.startswith(job + os.sep):
            return str(self.workdir) + image[len(job):]
        return image


class WarmPool:
    """Worker slots for the scripts run within :func:`workers` (thread-safe)."""

    def __init__(self, size: int | None = None, root: Path | None = None, modules=WARM_MODULES):
        self.size = size or 2 * (os.cpu_count() or 1)
        self.modules = tuple(modules)
        self._own_root = root is None
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix=f"warm-{os.getpid()}-", dir=_cache_root()))
        self.root.mkdir(parents=True, exist_ok=True)
        self._idle: list[_Slot] = []
        self._count = 0
        self._made = 0
        self._failed: dict[tuple, str] = {}
        self._cond = threading.Condition()
        self._closed = False
        # bwrap dies with the thread that started it (--die-with-parent): one long-lived thread starts them all
        self._launcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vibeplot-warm")

    def _popen(self, cmd, **kwargs):
        return self._launcher.submit(subprocess.Popen, cmd, **kwargs).result()

    def _acquire(self, key: tuple, python: str, grant: isolation.Grant, tmp_mb: int) -> _Slot | None:
        ended: list[_Slot] = []  # closed outside the lock (a close waits for the sandbox to end)
        try:
            with self._cond:
                while True:
                    if self._closed or key in self._failed:
                        return None
                    for slot in list(self._idle):
                        if not slot.alive():
                            self._idle.remove(slot)
                            self._count -= 1
                            ended.append(slot)
                        elif slot.key == key:
                            self._idle.remove(slot)
                            return slot
                    if self._count < self.size:
                        self._count += 1
                        self._made += 1
                        folder = self.root / f"slot-{self._made}"
                        break
                    if self._idle:  # another key: make room
                        ended.append(self._idle.pop(0))
                        self._count -= 1
                        continue
                    self._cond.wait()
        finally:
            for slot in ended:
                slot.close()
        try:
            return _Slot(key, python, grant, tmp_mb, folder, self.modules, self._popen)
        except (WarmError, OSError, ValueError) as err:
            with self._cond:
                self._count -= 1
                self._failed[key] = str(err)
                self._cond.notify_all()
            print(f"vibeplot: warm script workers unavailable ({err}); scripts run cold", file=sys.stderr)
            return None

    def release(self, slot: _Slot) -> None:
        with self._cond:
            keep = slot.alive() and not self._closed
            if keep:
                self._idle.append(slot)
            else:
                self._count -= 1
            self._cond.notify_all()
        if not keep:
            slot.close()

    def begin(self, script: Path, *, workdir: Path, env: dict, cpu_seconds: int, fds, python: str,
              grant: isolation.Grant, tmp_mb: int) -> _Job | None:
        """Start ``script`` in a slot; None when the warm path cannot be used (run it cold)."""
        key = (python, _grant_key(grant), tmp_mb)
        slot = self._acquire(key, python, grant, tmp_mb)
        if slot is None:
            return None
        try:
            job = slot.begin(script, workdir, env, cpu_seconds, fds)
        except (WarmError, OSError):
            with contextlib.suppress(OSError):
                slot.empty()  # no half-made job folder for the next script
            self.release(slot)
            return None
        job.pool = self
        return job

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for slot in idle:
            slot.close()
        self._launcher.shutdown(wait=False)
        if self._own_root:
            _remove_tree(self.root)


def _cache_root() -> Path:
    """``CACHE/warm``, without the folders of pools whose process is gone (a killed compare)."""
    folder = config.cache_dir() / "warm"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("warm-*-*"):
        pid = old.name.split("-")[1]
        if pid.isdigit() and not psutil.pid_exists(int(pid)):
            _remove_tree(old)
    return folder


_active: WarmPool | None = None


def active() -> WarmPool | None:
    """The pool of the innermost :func:`workers` block (process-wide: cells run in threads)."""
    return _active


@contextlib.contextmanager
def workers(enabled: bool = True, *, size: int | None = None, root: Path | None = None):
    """Within this block isolated scripts run in warm workers (see the module docstring); all
    servers are shut down at its end.  ``enabled=False``: nothing changes (cold runs)."""
    global _active
    if not enabled:
        yield None
        return
    pool, previous = WarmPool(size=size, root=root), _active
    _active = pool
    try:
        yield pool
    finally:
        _active = previous
        pool.close()


def measure_overhead(repeats: int = 3, python: str = sys.executable) -> dict[str, float]:
    """Median wall seconds of one script run through :func:`run_script`, cold and warm: an empty
    script, and one importing the scientific stack (what a cell's script pays before its work).
    Keys ``cold_empty``, ``warm_empty``, ``cold_imports``, ``warm_imports`` and ``warm_startup``
    (the warm child's measured start-up, request to first line)."""
    import statistics

    from vibeplot.core.sandbox.run import run_script

    scripts = {"empty": "", "imports": "import numpy, awkward, uproot, vector, hist, mplhep\n"
                                       "import matplotlib.pyplot as plt\n"}
    times: dict[str, list[float]] = {}
    runs = iter(range(1 << 30))
    with tempfile.TemporaryDirectory(prefix="vibeplot-overhead-") as tmp:
        def once(kind: str, name: str) -> None:
            workdir = Path(tmp) / f"{kind}-{name}-{next(runs)}"
            workdir.mkdir()
            (workdir / "script.py").write_text(scripts[name], encoding="utf-8")
            result = run_script(workdir / "script.py", workdir=workdir, python=python, poll_seconds=0.01)
            if result.returncode != 0 or result.worker != kind:
                raise RuntimeError(f"the {kind} {name} script ran {result.worker}: {result.describe()}: "
                                   f"{result.stderr[-500:]}")
            times.setdefault(f"{kind}_{name}", []).append(result.wall_seconds)
            if kind == "warm" and name == "empty":
                times.setdefault("warm_startup", []).append(result.startup_seconds or 0.0)

        for name in scripts:
            for _ in range(repeats):
                once("cold", name)
        with workers(size=1):
            once("warm", "empty")  # starts the server; not counted
            times["warm_empty"].pop()
            times["warm_startup"].pop()
            for name in scripts:
                for _ in range(repeats):
                    once("warm", name)
    return {key: statistics.median(values) for key, values in times.items()}
