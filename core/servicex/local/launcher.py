"""Start and stop the local ServiceX backend: in-process (:func:`serve`) or as a subprocess.

From a shell::

    $ python -m vibeplot.core.servicex.local serve --port 0 --log sxlocal.log
    {"url": "http://127.0.0.1:40123", "s3": "127.0.0.1:40124", "log": "/abs/sxlocal.log", "pid": 4242}

It prints that one JSON line when ready and shuts down cleanly (HTTP and S3
servers stopped, transform threads joined) on SIGTERM or SIGINT.

From Python, :class:`LocalServiceX` runs that command in its own process group
and writes a ``servicex.yaml`` for the unmodified client::

    with LocalServiceX(log_path=tmp / "sxlocal.log") as sx:
        config = sx.write_config(tmp)             # tmp/servicex.yaml, cache in tmp/servicex-cache
        files = deliver(spec, config_path=str(config), progress_bar="none")

This module imports nothing heavy: the client side never loads the transformers' libraries.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Optional

ENDPOINT_NAME = "vibeplot-local"
#: URL of a running local backend (``vibeplot servicex serve``) that runs use instead of each
#: starting its own; its log stays where that backend writes it
SHARED_ENV = "VIBEPLOT_LOCAL_SERVICEX"


def serve(host: str = "127.0.0.1", port: int = 0, log_path: Optional[str | Path] = None,
          ready: Optional[Callable[[dict], None]] = None, stop: Optional[threading.Event] = None) -> None:
    """Run the backend until SIGTERM/SIGINT (or until ``stop`` is set); blocking.

    ``ready`` is called once with ``{"url", "s3", "log", "pid"}`` when the backend
    accepts requests.  Signal handlers are installed only in the main thread.
    """
    from vibeplot.core.servicex.local.server import LocalBackend

    stop = stop or threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    backend = LocalBackend(host=host, port=port, log_path=log_path).start()
    try:
        if ready is not None:
            ready({"url": backend.url, "s3": backend.s3_endpoint,
                   "log": str(backend.log_path) if backend.log_path else None, "pid": os.getpid()})
        while not stop.wait(0.2):
            pass
    finally:
        backend.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: Optional[list[str]] = None) -> int:
    """``python -m vibeplot.core.servicex.local serve [--host H] [--port N] [--log FILE]``."""
    parser = argparse.ArgumentParser(prog="python -m vibeplot.core.servicex.local",
                                     description="A local, loopback ServiceX-compatible backend.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve until SIGTERM/SIGINT; print one JSON line when ready")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=0, help="HTTP port (0: a free one)")
    run.add_argument("--log", default=None, help="plain-text log file (requests, transforms, errors)")
    args = parser.parse_args(argv)

    def announce(info: dict) -> None:
        print(json.dumps(info), flush=True)
        # Nothing else may reach stdout: whoever reads the ready line may stop reading.
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    serve(args.host, args.port, args.log, ready=announce)
    return 0


class LocalServiceX:
    """The backend as a subprocess in its own process group; a context manager.

    ``url``, ``s3``, ``log_path`` and ``pid`` are set once started.  The
    subprocess's stderr goes to ``stderr_path`` (default: next to the log,
    ``<log>.stderr``); a failed start quotes its tail.  Exit sends SIGTERM to
    the whole group, then SIGKILL after ``term_timeout`` seconds.
    """

    def __init__(self, log_path: Optional[str | Path] = None, *, port: int = 0,
                 startup_timeout: float = 60.0, term_timeout: float = 5.0,
                 python: str = sys.executable, stderr_path: Optional[str | Path] = None,
                 env: Optional[dict] = None, cwd: Optional[str | Path] = None):
        if log_path is None:
            import tempfile

            log_path = Path(tempfile.mkdtemp(prefix="sxlocal-")) / "sxlocal.log"
        self.log_path = Path(log_path).resolve()
        self.stderr_path = Path(stderr_path).resolve() if stderr_path else self.log_path.with_name(self.log_path.name + ".stderr")
        self.port, self.startup_timeout, self.term_timeout = port, startup_timeout, term_timeout
        self.python, self.env, self.cwd = python, env, cwd
        self.url: Optional[str] = None
        self.s3: Optional[str] = None
        self.pid: Optional[int] = None
        self._proc: Optional[subprocess.Popen] = None

    # ------------------------------------------------------------------ start / stop
    def start(self) -> "LocalServiceX":
        if self._proc is not None:
            raise RuntimeError("LocalServiceX is already started")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [self.python, "-m", "vibeplot.core.servicex.local", "serve", "--port", str(self.port),
                   "--log", str(self.log_path)]
        with open(self.stderr_path, "ab") as err:
            self._proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL,
                                          start_new_session=True, env=self.env, cwd=self.cwd)
        self.pid = self._proc.pid
        try:
            info = self._read_ready_line()
        except BaseException:
            self.stop()
            raise
        self.url, self.s3 = info["url"], info["s3"]
        return self

    def _read_ready_line(self) -> dict:
        assert self._proc is not None and self._proc.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(self._proc.stdout, selectors.EVENT_READ)
            while b"\n" not in buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the local ServiceX backend did not become ready within "
                                       f"{self.startup_timeout:g} s{self._stderr_tail()}")
                if selector.select(timeout=min(left, 0.5)):
                    chunk = os.read(self._proc.stdout.fileno(), 4096)
                    if not chunk:
                        code = self._proc.wait(timeout=5)
                        raise RuntimeError(f"the local ServiceX backend exited (code {code}) before it "
                                           f"was ready{self._stderr_tail()}")
                    buffer += chunk
        self._proc.stdout.close()
        line = buffer.split(b"\n", 1)[0].decode()
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            raise RuntimeError(f"unexpected ready line from the local ServiceX backend: {line!r}") from None

    def _stderr_tail(self, n: int = 3000) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""
        return f"; its stderr ({self.stderr_path}) ends with:\n{text}" if text.strip() else ""

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after ``term_timeout`` s; reap the process."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        pgid = proc.pid  # start_new_session: the child leads its own group
        _signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + self.term_timeout
        while time.monotonic() < deadline and not _exited(proc.pid):
            time.sleep(0.05)
        # The leader is now a zombie (or still running): its pid, hence the group id,
        # cannot be reused yet, so this SIGKILL reaches only what is left of our group.
        _signal_group(pgid, signal.SIGKILL)
        proc.wait()
        if proc.stdout and not proc.stdout.closed:
            proc.stdout.close()

    @classmethod
    def attach(cls, url: str) -> "LocalServiceX":
        """A handle on a backend that is already running at ``url`` (not started or stopped here)."""
        handle = cls.__new__(cls)
        handle.url, handle.s3, handle.pid, handle._proc, handle.log_path = url.rstrip("/"), None, None, None, None
        return handle

    def __enter__(self) -> "LocalServiceX":
        return self if self.url and self._proc is None else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ client configuration
    def write_config(self, directory: str | Path, *, cache_path: Optional[str | Path] = None) -> Path:
        """Write ``directory/servicex.yaml`` for the unmodified client; return its path.

        One endpoint named ``vibeplot-local`` (no token), made the default; the
        client's query cache and downloads go to ``cache_path`` (default
        ``directory/servicex-cache``), so runs that each write their own config
        never share cached results or half-submitted requests.
        """
        if self.url is None:
            raise RuntimeError("start the backend before writing a client configuration")
        directory = Path(directory).resolve()
        directory.mkdir(parents=True, exist_ok=True)
        cache = Path(cache_path).resolve() if cache_path else directory / "servicex-cache"
        path = directory / "servicex.yaml"
        path.write_text(config_text(self.url, cache))
        return path


class SharedBackend:
    """One backend for every run in this process while it is active (:func:`shared_backend`).

    It is started by the first run that needs it (so a compare without ServiceX cells
    starts none), logs to ``log_path``, and is stopped by :meth:`close`.  Runs keep their
    results apart on it as on a real ServiceX: one request id (and bucket) per request,
    and each run's client cache in its own directory (:meth:`LocalServiceX.write_config`).
    """

    def __init__(self, log_path: str | Path):
        self.log_path = Path(log_path)
        self.starts = 0
        self._backend: Optional[LocalServiceX] = None
        self._lock = threading.Lock()
        self._closed = False

    def get(self) -> LocalServiceX:
        with self._lock:
            if self._closed:
                raise RuntimeError("the shared local ServiceX backend is already stopped")
            if self._backend is None:
                self._backend = LocalServiceX(log_path=self.log_path).start()
                self.starts += 1
            return self._backend

    def close(self) -> None:
        with self._lock:
            self._closed = True
            backend, self._backend = self._backend, None
        if backend is not None:
            backend.stop()


_SHARED: list[SharedBackend] = []
_SHARED_LOCK = threading.Lock()


@contextlib.contextmanager
def shared_backend(log_path: str | Path):
    """Within this block, runs in this process (any thread) that need the local backend use one,
    started on first use and logging to ``log_path``; it is stopped when the block ends (also on an
    error).  On Ctrl-C (``KeyboardInterrupt``) it stays up for the runs still going in other threads
    (``compare`` finishes the cells already running) and is stopped when the interpreter exits,
    after those threads.  ``$VIBEPLOT_LOCAL_SERVICEX`` still wins: then nothing is started."""
    shared = SharedBackend(log_path)
    with _SHARED_LOCK:
        _SHARED.append(shared)
    try:
        yield shared
    except KeyboardInterrupt:
        # atexit handlers run after the interpreter has joined its non-daemon threads (the cells)
        atexit.register(_retire, shared)
        raise
    except BaseException:
        _retire(shared)
        raise
    _retire(shared)


def _retire(shared: SharedBackend) -> None:
    with _SHARED_LOCK:
        if shared in _SHARED:
            _SHARED.remove(shared)
    shared.close()


@contextlib.contextmanager
def backend_for_run(log_path: str | Path):
    """The local backend for one script run: the running one named by ``$VIBEPLOT_LOCAL_SERVICEX``
    when set, else the one of an active :func:`shared_backend` block, else a new one for this run,
    logging to ``log_path`` and stopped afterwards."""
    shared = os.environ.get(SHARED_ENV)
    if shared:
        yield LocalServiceX.attach(shared)
        return
    with _SHARED_LOCK:
        block = _SHARED[-1] if _SHARED else None
    if block is not None:
        yield block.get()
        return
    with LocalServiceX(log_path=log_path) as backend:
        yield backend


def config_text(url: str, cache_path: str | Path) -> str:
    """The ``servicex.yaml`` text for an endpoint at ``url`` (JSON strings are valid YAML).

    >>> print(config_text("http://127.0.0.1:5000", "/runs/1/servicex-cache"))
    api_endpoints:
      - name: "vibeplot-local"
        endpoint: "http://127.0.0.1:5000"
    default-endpoint: "vibeplot-local"
    cache_path: "/runs/1/servicex-cache"
    <BLANKLINE>
    """
    q = json.dumps
    return (f"api_endpoints:\n  - name: {q(ENDPOINT_NAME)}\n    endpoint: {q(url)}\n"
            f"default-endpoint: {q(ENDPOINT_NAME)}\ncache_path: {q(str(cache_path))}\n")


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _exited(pid: int) -> bool:
    """True once ``pid`` (our child) has exited; it is left unreaped (a zombie)."""
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None and info.si_pid == pid
