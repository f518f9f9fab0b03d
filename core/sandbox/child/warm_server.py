"""The warm worker's fork server: runs inside one bubblewrap sandbox per worker slot (as its PID 1).

Started by :mod:`vibeplot.core.sandbox.warm` as ``python warm_server.py FD MODULES``: ``FD`` is its
end of a ``SOCK_SEQPACKET`` socket pair with vibeplot, ``MODULES`` the modules to import once
(comma separated; one that fails to import is skipped), and saves one small figure per
plot style (:func:`_draw_once`: fonts and glyphs loaded once, rcParams restored).  Then, forever:

1. fork a child; the child waits for one request on the socket (JSON: script, working
   directory, environment, CPU limit, start-up modules; with the script's stdout, stderr and
   capture pipe as ``SCM_RIGHTS`` file descriptors).  The server itself never reads a request,
   so nothing of one script's request (its environment) is ever in the memory the next
   script is forked from;
2. the child becomes the script: new session, ``RLIMIT_CPU``, the three pipes on fds 1, 2 and
   the capture fd, stdin ``/dev/null``, every other fd closed, ``os.environ`` replaced, the
   start-up modules imported as ``sitecustomize`` would, the socket closed, then the script
   runs as ``__main__`` and the interpreter exits as ``python script.py`` would (threads
   joined, ``atexit`` handlers, exit code);
3. when the child ends (or vibeplot kills it at a limit), the server kills every other
   process of the sandbox (``kill(-1, SIGKILL)``; as PID 1 it is the reaper of every orphan,
   so it loops until it has no child left), empties ``/tmp`` and ``/dev/shm``, restores
   ``/dev`` as it was, removes System V IPC objects, and reports the exit status and the
   child's CPU seconds.

Hardening: as PID 1 of its PID namespace the server cannot be sent SIGKILL or SIGSTOP by a
script, and it has no handler for any other signal (SIGINT is reset to the default, which
PID 1 ignores); it is not dumpable (``PR_SET_DUMPABLE`` 0), so a script cannot ptrace it or
read its memory or file descriptors through ``/proc``.  Only the standard library is
imported before the heavy modules; nothing of vibeplot's parent side is.
"""

import ctypes
import importlib
import json
import os
import resource
import signal
import socket
import stat
import sys
import time

PR_SET_DUMPABLE = 4
_libc = ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> None:
    _libc.prctl(option, value, 0, 0, 0)


def _send(sock: socket.socket, record: dict) -> None:
    sock.send(json.dumps(record).encode())


# -- cleaning the sandbox between scripts --------------------------------------------------------


def _mount_points() -> set[str]:
    """The visible mount points (a mount hidden under a later one, e.g. the host's ``/dev/shm`` under
    the sandbox's ``/dev``, is listed too but is on the same device as its folder's parent)."""
    with open("/proc/self/mountinfo", encoding="utf-8") as info:
        listed = {line.split()[4].encode().decode("unicode_escape") for line in info if line.strip()}
    found = set()
    for path in listed:
        try:
            if os.lstat(path).st_dev != os.lstat(os.path.dirname(path)).st_dev:
                found.add(path)
        except OSError:
            pass
    return found


def _remove(path: str) -> None:
    """Remove ``path`` (never following a link), however its permissions were set."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(info.st_mode):
        try:
            os.chmod(path, 0o700)
            names = os.listdir(path)
        except OSError:
            names = []
        for name in names:
            _remove(os.path.join(path, name))
        try:
            os.rmdir(path)
        except OSError:
            pass
    else:
        try:
            os.unlink(path)
        except OSError:
            pass


def _wipe(folder: str, mounts: set[str]) -> None:
    """Remove everything in ``folder`` except mount points and the folders leading to them."""
    try:
        os.chmod(folder, 0o755)
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        path = os.path.join(folder, name)
        if path in mounts:
            continue
        if any(m.startswith(path + "/") for m in mounts):
            try:
                is_dir = stat.S_ISDIR(os.lstat(path).st_mode)
            except OSError:
                continue
            if is_dir:
                _wipe(path, mounts)
            continue
        _remove(path)


def _snapshot_dev() -> dict[str, tuple]:
    state = {}
    for name in os.listdir("/dev"):
        path = f"/dev/{name}"
        info = os.lstat(path)
        state[name] = (stat.S_IFMT(info.st_mode), os.readlink(path) if stat.S_ISLNK(info.st_mode) else None,
                       stat.S_IMODE(info.st_mode))
    return state


def _restore_dev(state: dict[str, tuple], mounts: set[str]) -> None:
    try:
        os.chmod("/dev", 0o755)
        names = os.listdir("/dev")
    except OSError:
        names = []
    for name in names:
        if name not in state and f"/dev/{name}" not in mounts:
            _remove(f"/dev/{name}")
    for name, (kind, target, mode) in state.items():
        path = f"/dev/{name}"
        if path in mounts:
            continue
        try:
            info = os.lstat(path)
            same = stat.S_IFMT(info.st_mode) == kind and (target is None or os.readlink(path) == target)
        except OSError:
            same = False
        if not same:
            _remove(path)
            try:
                if kind == stat.S_IFLNK:
                    os.symlink(target, path)
                elif kind == stat.S_IFDIR:
                    os.mkdir(path, mode)
            except OSError:
                pass
        if kind == stat.S_IFDIR:
            _wipe(path, mounts)
            try:
                os.chmod(path, mode)
            except OSError:
                pass


def _remove_sysv_ipc() -> None:
    for kind, remove in (("shm", lambda i: _libc.shmctl(i, 0, None)), ("msg", lambda i: _libc.msgctl(i, 0, None)),
                         ("sem", lambda i: _libc.semctl(i, 0, 0))):
        try:
            with open(f"/proc/sysvipc/{kind}", encoding="utf-8") as table:
                lines = table.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 1:
                remove(int(fields[1]))  # IPC_RMID is 0


class _Sandbox:
    """What the server restores after every script: ``/tmp``, ``/dev`` and its folders' modes."""

    def __init__(self):
        self.mounts = _mount_points()
        self.dev = _snapshot_dev()
        self.dirs = {}  # folders under /tmp that hold mount points (the home, matplotlib's font cache)
        for mount in self.mounts:
            if mount.startswith("/tmp/"):
                parent = os.path.dirname(mount)
                while parent != "/":
                    self.dirs[parent] = stat.S_IMODE(os.lstat(parent).st_mode)
                    parent = os.path.dirname(parent)
        home = os.environ.get("HOME", "")
        self.made = [d for d in (home, f"{home}/.config", f"{home}/.config/matplotlib", f"{home}/.cache")
                     if d.startswith("/tmp/") and os.path.isdir(d)]

    def clean(self) -> None:
        _wipe("/tmp", self.mounts)
        for folder in self.made:
            os.makedirs(folder, exist_ok=True)
        for folder, mode in self.dirs.items():
            try:
                os.chmod(folder, mode)
            except OSError:
                pass
        _restore_dev(self.dev, self.mounts)
        _remove_sysv_ipc()


def _end_everything_else() -> None:
    """SIGKILL every other process of the sandbox and reap them all (PID 1 inherits orphans)."""
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            return
        time.sleep(0.001)


# -- the server ----------------------------------------------------------------------------------


def _draw_once() -> None:
    """Save one small figure in matplotlib's default style and in mplhep's CMS and ATLAS styles, so
    that the fonts and glyphs a plot needs are loaded once (matplotlib caches them); rcParams are
    restored and the figures closed, so a script starts from the same state as in a new interpreter."""
    if "matplotlib.pyplot" not in sys.modules:
        return
    import io

    import matplotlib
    import matplotlib.pyplot as plt

    hep = sys.modules.get("mplhep")
    for style in (None, "CMS", "ATLAS"):
        if style and hep is None:
            continue
        try:
            with matplotlib.rc_context():
                if style:
                    hep.style.use(style)
                fig, ax = plt.subplots()
                try:
                    ax.stairs([1.0, 2.0], [0.0, 1.0, 2.0], label="a")
                    ax.set_xlabel(r"$E_{T}^{miss}$ [GeV]")
                    ax.set_ylabel("Events")
                    ax.legend()
                    if style:
                        hep.label.exp_label(exp=style, data=False, ax=ax)
                    fig.savefig(io.BytesIO(), format="png")
                finally:
                    plt.close(fig)
        except Exception:  # noqa: BLE001 - only a speed-up
            pass


def serve(fd: int, modules: list[str]) -> socket.socket:
    """Import ``modules``, then fork one child per request; returns only in a child."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sock = socket.socket(fileno=fd)
    loaded = []
    for name in modules:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except Exception:  # noqa: BLE001 - a missing or broken module is simply not warm
            pass
    _draw_once()
    import gc

    gc.collect()
    gc.freeze()  # the imported objects stay out of the children's collections: fewer pages copied
    threads = len(os.listdir("/proc/self/task"))
    _prctl(PR_SET_DUMPABLE, 0)
    sandbox = _Sandbox()
    _send(sock, {"ready": True, "modules": loaded, "threads": threads})
    while True:
        pid = os.fork()
        if pid == 0:
            return sock
        status, usage = 0, None
        while True:
            try:
                got, status, usage = os.wait4(pid, 0)
                break
            except ChildProcessError:
                break
            except InterruptedError:
                continue
        _end_everything_else()
        sandbox.clean()
        try:
            _send(sock, {"exit": os.waitstatus_to_exitcode(status),
                         "cpu": (usage.ru_utime + usage.ru_stime) if usage else None})
        except OSError:  # vibeplot closed its end: the pool is shut down
            os._exit(0)


def child(sock: socket.socket) -> None:
    """Become the requested script (see the module docstring); returns to run it as ``__main__``."""
    os.setsid()
    _prctl(PR_SET_DUMPABLE, 1)
    legacy = sys.modules.get("numpy.random")
    if legacy is not None:  # seeded once in the server: each script draws its own numbers, as in a new
        legacy.seed()  # interpreter (Python's random module reseeds itself after a fork)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        data, fds, _flags, _addr = socket.recv_fds(sock, 1 << 20, 3)
    except OSError:
        os._exit(0)
    if not data or len(fds) != 3:
        os._exit(0)  # vibeplot closed its end
    request = json.loads(data)
    out, err, cap = fds  # each >= 3: the server's fds 0, 1 and 2 are open
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)  # the server's log (its fds 1 and 2) is replaced; its other fds stay open and
    os.dup2(out, 1)  # not inheritable: the font files matplotlib reads glyphs from (not secret)
    os.dup2(err, 2)
    for fd in (null, out, err):
        os.close(fd)
    os.set_inheritable(cap, True)
    n = int(request["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (n, n + 5))
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ[request["capture_env"]] = str(cap)
    script = request["script"]
    sys.argv = [script]
    sys.path[0] = os.path.dirname(script)
    for name in filter(None, os.environ.get("VIBEPLOT_STARTUP", "").split(",")):  # as sitecustomize does
        try:
            importlib.import_module(name)
        except Exception as error:  # noqa: BLE001
            print(f"vibeplot: hook {name} failed to load: {error}", file=sys.stderr)
    _send(sock, {"started": time.time()})
    sock.close()


def run_main(script: str) -> None:
    """Run ``script`` as ``__main__``; an exception is reported from the script's frames on, exit code 1."""
    import builtins
    import types

    main = types.ModuleType("__main__")
    main.__file__, main.__builtins__, main.__cached__ = script, builtins, None
    sys.modules["__main__"] = main
    try:
        with open(script, "rb") as source:
            code = compile(source.read(), script, "exec")
        exec(code, main.__dict__)
    except SystemExit:
        raise
    except BaseException as error:  # noqa: BLE001 - as the interpreter reports an uncaught exception
        tb = error.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != script:
            tb = tb.tb_next
        sys.excepthook(type(error), error.with_traceback(tb or error.__traceback__), tb)
        raise SystemExit(1) from None


if __name__ == "__main__":
    child(serve(int(sys.argv[1]), [m for m in sys.argv[2].split(",") if m]))
    run_main(sys.argv[0])  # the child's sys.argv is [script]
