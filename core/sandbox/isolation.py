"""Isolation for generated scripts: a bubblewrap sandbox, or none (with a warning).

Threat model: a generated script may try anything — read the user's secrets, write
anywhere, leave processes behind, forge its own verdict.  With bubblewrap (``bwrap``,
Debian/Ubuntu package ``bubblewrap``; no root, no daemon) every script runs in new
user, PID, IPC, UTS and cgroup namespaces, and a new network namespace unless its
stack or dataset needs the network:

* the file system is the host's, read-only, with the attempt directory the only
  writable place besides a private ``/tmp`` (a tmpfs as large as the memory cap);
* ``/home``, ``/root``, the user's home, ``/run/user``, ``/var/tmp`` and vibeplot's
  own cache and config directories are replaced by empty read-only file systems,
  and so are root-only secrets of the system (``/etc/shadow``, ``/etc/ssh``,
  ``/etc/grid-security``, ...); no capability is kept, even when vibeplot runs as root;
  put back, read-only: the Python environment (and vibeplot's own package
  folders), the dataset file and whatever the stack grants (:class:`Grant`), and,
  with the network, the CA certificates ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` name;
* ``HOME`` is an empty ``/tmp/home``; a new ``/proc`` shows only the sandbox's
  processes, so no other process's environment can be read;
* ``--die-with-parent``: when vibeplot dies, however it dies, the sandbox dies, and
  when the script's main process ends, the kernel ends everything else in its PID
  namespace.

The mode comes from ``--isolation``, ``VIBEPLOT_ISOLATION`` or ``isolation`` in the
config file: ``auto`` (bubblewrap when it works, else none with a one-line warning),
``required`` (refuse to run without it) or ``none``.

>>> Grant(network=True).merge(Grant(read_only=(Path("/data/a.root"),))).network
True
"""

from __future__ import annotations

import functools
import os

import platformdirs
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from vibeplot.core import config
from vibeplot.core.errors import ConfigError

MODES = ("auto", "required", "none")
BUBBLEWRAP = "bubblewrap"
NONE = "none"
#: home directory of scripts inside the sandbox (on its private /tmp)
SANDBOX_HOME = "/tmp/home"
HOW_TO_GET_IT = ("install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap) "
                 "on a Linux kernel with user namespaces")


@dataclass(frozen=True)
class Grant:
    """What a script may reach beyond its attempt directory and the Python environment.

    Stacks grant it per dataset (see ``Stack.network``); vibeplot adds the dataset file.
    ``home_files`` maps a name in the script's empty ``HOME`` to a host file bound there
    read-only (e.g. ``{"servicex.yaml": Path("~/servicex.yaml")}``): the file is never
    copied into a run directory.
    """

    network: bool = False
    read_only: tuple[Path, ...] = ()
    home_files: dict[str, Path] = field(default_factory=dict)

    def merge(self, other: "Grant") -> "Grant":
        return Grant(network=self.network or other.network,
                     read_only=tuple(dict.fromkeys((*self.read_only, *other.read_only))),
                     home_files={**self.home_files, **other.home_files})


@dataclass(frozen=True)
class Status:
    """Whether scripts can be isolated here, and how."""

    mechanism: str  # "bubblewrap" or "none"
    detail: str  # bwrap's version, or why there is no isolation

    @property
    def available(self) -> bool:
        return self.mechanism == BUBBLEWRAP


def mode(cli_value: str | None = None) -> str:
    """The isolation mode: ``auto``, ``required`` or ``none`` (CLI, env, config, default auto)."""
    value = str(config.setting("isolation", cli_value, "auto")).strip().lower()
    if value not in MODES:
        raise ConfigError(f"unknown isolation mode {value!r}", hint="use one of: " + ", ".join(MODES))
    return value


def _namespace_flags(network: bool) -> list[str]:
    # --cap-drop ALL: run as root, bwrap would keep capabilities (and a script could remount binds)
    flags = ["--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
             "--disable-userns", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
             "--hostname", "vibeplot-sandbox"]
    return flags if network else [*flags, "--unshare-net"]


@functools.cache
def probe() -> Status:
    """Can bubblewrap start a sandbox here?  Checked once per process (a few ms)."""
    if not sys.platform.startswith("linux"):
        return Status(NONE, f"bubblewrap needs Linux (this is {sys.platform})")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Status(NONE, "bwrap is not installed")
    true = shutil.which("true") or "/bin/true"
    try:
        done = subprocess.run([bwrap, *_namespace_flags(False), "--ro-bind", "/", "/", "--proc", "/proc",
                               "--dev", "/dev", "--", true], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return Status(NONE, f"bwrap did not start: {err}")
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return Status(NONE, f"bwrap cannot create a sandbox here: {why}")
    version = subprocess.run([bwrap, "--version"], capture_output=True, text=True).stdout.strip()
    return Status(BUBBLEWRAP, version or "bwrap")


def choose(requested: str) -> Status:
    """The isolation to use for ``requested`` mode; raises ConfigError when ``required`` cannot be had."""
    if requested == NONE:
        return Status(NONE, "isolation turned off")
    status = probe()
    if requested == "required" and not status.available:
        raise ConfigError(f"isolation is required but not available: {status.detail}", hint=HOW_TO_GET_IT)
    return status


@functools.cache
def warning_once(detail: str) -> str:
    """The one-line warning printed (once per process) when scripts run without isolation."""
    message = (f"Warning: generated code runs WITHOUT isolation ({detail}): it can read your files and "
               f"secrets and use the network. To isolate it, {HOW_TO_GET_IT}; "
               "--isolation required refuses to run without it.")
    print(message, file=sys.stderr)
    return message


def _hidden_roots() -> list[Path]:
    """Folders replaced by empty read-only file systems: homes and vibeplot's own files."""
    candidates = [Path("/home"), Path("/root"), Path("/run/user"), Path("/var/tmp"), Path("/media"),
                  Path.home(), config.cache_dir(), Path(platformdirs.user_config_dir("vibeplot"))]
    for var in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR"):
        if os.environ.get(var):
            candidates.append(Path(os.environ[var]))
    roots: list[Path] = []
    for path in candidates:
        try:
            real = path.expanduser().resolve()
        except OSError:
            continue
        if real != Path("/") and real.is_dir() and real not in roots:
            roots.append(real)
    # a folder inside another hidden folder needs no tmpfs of its own
    return sorted(r for r in roots if not any(o != r and o in r.parents for o in roots))


#: system files with secrets that only root can read: hidden too, for users who run vibeplot as root
SYSTEM_SECRETS = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers", "/etc/sudoers.d",
                  "/etc/ssh", "/etc/grid-security", "/etc/security/opasswd")


def _ca_paths() -> list[Path]:
    """The CA bundle and folders named by ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` (the environment
    allow-list passes both to scripts): scripts with the network can read them, wherever they are."""
    named = [os.environ.get("SSL_CERT_FILE", ""), *os.environ.get("SSL_CERT_DIR", "").split(os.pathsep)]
    found = [Path(p).resolve() for p in named if p and os.path.isabs(p) and Path(p).exists()]
    kept = [Path("/"), Path("/tmp"), Path.home().resolve(), *_hidden_roots()]  # never a whole home or /tmp
    return [p for p in found if p.is_file() or not any(p == k or p in k.parents for k in kept)]


def _python_paths() -> list[Path]:
    """The Python environment and vibeplot's package folders, put back read-only."""
    import vibeplot.core

    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable)),
             *(p for p in sys.path if os.path.isabs(p))]
    for name in ("vibeplot.core", "vibeplot.stacks", "vibeplot.datasets", "vibeplot.hints"):
        module = sys.modules.get(name) or __import__(name, fromlist=["_"])
        paths.extend(getattr(module, "__path__", []))
    home = Path.home().resolve()
    out: list[Path] = []
    for raw in paths:
        real = Path(os.path.realpath(raw))
        if not real.exists() or real in (Path("/"), Path("/tmp")) or real in home.parents or real == home:
            continue  # never put back a whole home or the host's /tmp (a PYTHONPATH=~ or a script in /tmp, say)
        if real not in out:
            out.append(real)
    del vibeplot
    return out


def bwrap_argv(argv: list[str], *, workdir: Path, grant: Grant, tmp_mb: int,
               mpl_files: list[Path] = (), as_pid_1: bool = False) -> list[str]:
    """The ``bwrap ... -- argv`` command line for one script run in ``workdir``.

    ``as_pid_1``: ``argv`` is PID 1 of the sandbox (a warm worker's server, :mod:`.warm`)."""
    bwrap = shutil.which("bwrap") or "bwrap"
    cmd = [bwrap, *_namespace_flags(grant.network), *(["--as-pid-1"] if as_pid_1 else []),
           "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--size", str(max(16, tmp_mb) * 2**20), "--tmpfs", "/tmp"]
    hidden = _hidden_roots()
    for root in hidden:
        if root != Path("/tmp"):
            cmd += ["--size", str(2**20), "--tmpfs", str(root)]
    binds = [*_python_paths(), *(Path(p).expanduser().resolve() for p in grant.read_only),
             *(_ca_paths() if grant.network else ())]
    for path in dict.fromkeys(binds):
        if path.exists() and path != Path("/tmp") and any(h == path or h in path.parents for h in [*hidden, Path("/tmp")]):
            cmd += ["--ro-bind", str(path), str(path)]
    config_file = config.config_path()  # may hold an api_key, wherever it is
    for secret in map(Path, (*SYSTEM_SECRETS, config_file)):
        if secret.is_dir() and not secret.is_symlink():
            cmd += ["--size", str(2**20), "--tmpfs", str(secret), "--remount-ro", str(secret)]
        elif secret.is_file() and not secret.is_symlink():
            cmd += ["--ro-bind", "/dev/null", str(secret)]
    workdir = Path(workdir).resolve()
    cmd += ["--bind", str(workdir), str(workdir)]
    for root in hidden:  # read-only once the binds inside them are made
        if root != Path("/tmp"):
            cmd += ["--remount-ro", str(root)]
    cmd += ["--dir", SANDBOX_HOME, "--dir", f"{SANDBOX_HOME}/.config/matplotlib", "--dir", f"{SANDBOX_HOME}/.cache"]
    for file in mpl_files:  # matplotlib's font cache, prepared once, so no run rebuilds it
        cmd += ["--ro-bind", str(file), f"{SANDBOX_HOME}/.config/matplotlib/{file.name}"]
    for name, source in grant.home_files.items():
        cmd += ["--ro-bind", str(Path(source).expanduser().resolve()), f"{SANDBOX_HOME}/{name}"]
    cmd += ["--chdir", str(workdir), "--", *argv]
    return cmd
