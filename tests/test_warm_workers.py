"""Warm script workers (core/sandbox/warm.py): the sandbox's attacks through a warm worker, no state
carried from one script to the next, limits that kill the warm child but not its slot, a killed
server replaced.  One pool for the module: one server start per (grant, /tmp size)."""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest

import test_isolation as iso
from test_isolation import home  # noqa: F401 - the fixture: a home with secrets
from conftest import only_run_dir, read_manifest, run_cli
from vibeplot.core.sandbox import isolation, warm
from vibeplot.core.sandbox.run import Grant, Limits, run_script

pytestmark = pytest.mark.skipif(not isolation.probe().available,
                                reason=f"no isolation here: {isolation.probe().detail}")


@pytest.fixture(scope="module")
def pool(sample, tmp_path_factory):
    with warm.workers(size=2) as pool:
        workdir = tmp_path_factory.mktemp("warm-start")
        (workdir / "script.py").write_text("")
        run_script(workdir / "script.py", workdir=workdir, grant=Grant(read_only=(sample,)))  # the server starts
        yield pool


@pytest.fixture
def run(pool, sample, tmp_path):
    """Run ``code`` (DATASET, HOME, OUTSIDE, PORT, MARKER, SAMPLE filled in) warm; the result must be warm."""
    count = [0]

    def run(code: str, limits: Limits | None = None, **values) -> tuple:
        count[0] += 1
        workdir = tmp_path / f"attempt-{count[0]}"
        workdir.mkdir()
        script = workdir / "script.py"
        script.write_text(iso.fill(code, DATASET=sample, SAMPLE=sample, **values))
        result = run_script(script, workdir=workdir, limits=limits, grant=Grant(read_only=(sample,)))
        assert result.worker == "warm", result.stderr
        return result, workdir

    return run


def _server_pids(pool) -> set[int]:
    return {slot.server.pid for slot in pool._idle}


# -- the attacks of tests/test_isolation.py, each through a warm worker ----------------------------


def test_secrets_stay_out(run, home, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", iso.SECRETS["env"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", iso.SECRETS["aws"])
    probe = iso.READ_SECRETS.replace('raise SystemExit("looked everywhere")', textwrap.dedent("""
        for path in ["/proc/1/environ", "/proc/1/mem", "/proc/1/maps"]:
            try: found.append(open(path, "rb").read(4096).decode(errors="replace"))
            except OSError as err: found.append("no " + path + ": " + type(err).__name__)
        print("\\n".join(found))
        raise SystemExit("looked everywhere")
    """))
    result, workdir = run(probe, HOME=home)
    assert result.returncode == 1, result.stderr
    seen = "".join(p.read_text(errors="replace") for p in workdir.rglob("*") if p.is_file())
    for name, secret in iso.SECRETS.items():
        assert secret not in seen, f"the {name} secret leaked"
    assert "no /proc/1/environ: PermissionError" in result.stdout  # the server is not dumpable
    assert "no /proc/1/mem: PermissionError" in result.stdout


def test_writes_outside_and_damage_refused(run, home, sample, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    before = iso.sha(sample)
    result, workdir = run(iso.WRITE_OUTSIDE, HOME=home, OUTSIDE=outside)
    assert result.ok, result.stderr
    assert "DAMAGED" not in result.stdout and result.stdout.count("refused") >= 6
    assert not list(outside.iterdir()) and not (home / "planted.txt").exists()
    assert not (workdir.parent / "planted.txt").exists()
    assert iso.sha(sample) == before
    assert [p.name for p in result.new_pngs] == ["met.png"]  # moved from the job folder
    assert json.loads((workdir / "met.png.json").read_text())["image"] == str(workdir / "met.png")


def test_no_network(run):
    listener = iso.Listener()
    try:
        result, _ = run(iso.NETWORK, PORT=listener.port)
    finally:
        listener.close()
    assert result.ok, result.stderr
    assert "no network" in result.stdout and "no http" in result.stdout
    assert listener.received == [] and listener.connections == 0


def test_forged_sidecar_is_replaced(run):
    result, workdir = run(iso.FORGE)
    assert result.ok, result.stderr
    drawn = json.loads((workdir / "met.png.json").read_text())["axes"][0]["histograms"][0]
    import numpy as np
    import uproot

    from vibeplot.datasets import embedded

    met = uproot.open(embedded.ensure_sample())["Events"]["MET_pt"].array(library="np")
    honest, _ = np.histogram(met, bins=50, range=(0, 200))
    assert drawn["values"] != honest.tolist()  # what was drawn (MET x 2), not the forged record
    assert drawn["values"] == np.histogram(met * 2, bins=np.linspace(0, 200, 51))[0].tolist()


def test_setsid_escape_leaves_nothing_and_the_slot_stays(run, pool):
    marker = f"vp-warm-setsid-{iso.TOKEN}"
    result, _ = run(iso.SETSID_ESCAPE, MARKER=marker)
    assert result.ok, result.stderr
    time.sleep(0.3)
    assert iso.alive_with(marker) == []


@pytest.mark.slow  # a second server (another /tmp size), a 1.5 GB allocation
def test_memory_escape_is_caught(run):
    marker = f"vp-warm-memory-{iso.TOKEN}"
    result, _ = run(iso.MEMORY_ESCAPE, limits=Limits(memory_mb=400), MARKER=marker)
    assert result.memory_exceeded and not result.ok
    time.sleep(0.3)
    assert iso.alive_with(marker) == []


def test_output_cap_and_refused_pngs(run):
    result, _ = run(iso.HUGE_STDOUT)
    assert result.returncode == 3 and result.cut_bytes > 20 * 2**20
    text = result.stdout
    assert text.startswith("FIRST-LINE-OF-OUTPUT") and text.rstrip().endswith("LAST-LINE-OF-OUTPUT")
    result, _ = run(iso.FAKE_PNG, HOME=Path("/etc"))
    assert "met.png is not a PNG image" in result.describe() and "secret.png is not a regular file" in result.describe()


def test_files_naming_the_attempt_directory_work_as_in_a_cold_run(pool, sample, tmp_path):
    """A ServiceX servicex.yaml puts the client's cache in the attempt directory, by its path."""
    workdir = tmp_path / "attempt"
    workdir.mkdir()
    (workdir / "where.txt").write_text(f"cache_path: {workdir / 'cache'}\nother: {workdir}-2/x\n")
    (workdir / "script.py").write_text("import os\npath = open('where.txt').read().split()[1]\n"
                                       "os.makedirs(path)\nopen(os.path.join(path, 'made'), 'w').write('1')\n")
    result = run_script(workdir / "script.py", workdir=workdir, grant=Grant(read_only=(sample,)))  # the pool's slot
    assert result.worker == "warm" and result.returncode == 0, result.stderr
    assert (workdir / "cache" / "made").read_text() == "1"
    assert (workdir / "where.txt").read_text().startswith(f"cache_path: {workdir / 'cache'}\n")  # untouched


# -- nothing carried from one script to the next ----------------------------------------------------

CHANGE_EVERYTHING = """
import os, subprocess, sys, time
import numpy, matplotlib
numpy.pi = 3
matplotlib.rcParams["lines.linewidth"] = 42.0
import json; json.dumps = None
sys.modules["planted_module"] = numpy
os.environ["PLANTED"] = "1"
open("left-in-job.txt", "w").write("x")
open("/tmp/left.txt", "w").write("x")
os.makedirs(os.path.expanduser("~/.config/matplotlib"), exist_ok=True)
open(os.path.expanduser("~/.config/matplotlib/matplotlibrc"), "w").write("lines.linewidth: 42\\n")
open("/dev/shm/left", "w").write("x")
open("/dev/planted", "w").write("x")
os.unlink("/dev/stdin"); os.symlink("/tmp/left.txt", "/dev/stdin")
open(os.path.join(os.path.dirname(os.getcwd()), "next-to-job.txt"), "w").write("x")
subprocess.Popen([sys.executable, "-c", "import os, time; os.setsid(); time.sleep(120)", MARKER],
                 start_new_session=True)
time.sleep(0.5)
"""

CHECK_EVERYTHING = """
import os, sys
import numpy, matplotlib, matplotlib.pyplot
print("pi", numpy.pi)
import random; print("random", numpy.random.random(), random.random())
print("linewidth", matplotlib.rcParams["lines.linewidth"])
print("font", matplotlib.rcParams["font.sans-serif"][0], len(matplotlib.pyplot.get_fignums()))
import json; print("json.dumps", json.dumps is not None)
print("module", "planted_module" in sys.modules, "env", "PLANTED" in os.environ)
print("files", sorted(os.listdir(".")), sorted(os.listdir("..")))
print("tmp", os.path.exists("/tmp/left.txt"), os.path.exists(os.path.expanduser("~/.config/matplotlib/matplotlibrc")))
print("dev", os.listdir("/dev/shm"), os.path.exists("/dev/planted"), os.readlink("/dev/stdin"))
print("processes", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
"""


def test_nothing_carried_to_the_next_script(run, pool):
    marker = f"vp-warm-carry-{iso.TOKEN}"
    first, workdir = run(CHANGE_EVERYTHING + "import random\nprint('random', numpy.random.random(), random.random())\n",
                         MARKER=marker)
    assert first.returncode == 0, first.stderr
    assert (workdir / "left-in-job.txt").exists()  # the script's file, moved to its attempt directory
    servers = _server_pids(pool)
    second, _ = run(CHECK_EVERYTHING)
    assert second.returncode == 0, second.stderr
    lines = dict(line.split(" ", 1) for line in second.stdout.splitlines())
    drawn = first.stdout.split("random ")[1].split()
    assert lines["random"].split()[0] != drawn[0] and lines["random"].split()[1] != drawn[1]  # numpy's, Python's
    assert lines["pi"] == str(3.141592653589793)
    assert lines["linewidth"] != "42.0"
    assert lines["font"] == "DejaVu Sans 0"  # the server's warm-up figures left matplotlib's defaults
    assert lines["json.dumps"] == "True"
    assert lines["module"] == "False env False"
    assert lines["files"] == "['script.py'] ['job-%s']" % lines["files"].split("'job-")[1].split("'")[0]
    assert lines["tmp"] == "False False"
    assert lines["dev"] == "[] False /proc/self/fd/0"
    processes = json.loads(lines["processes"])
    assert len(processes) == 2 and processes[0] == 1  # the server and this script
    assert iso.alive_with(marker) == []
    assert _server_pids(pool) == servers  # the same warm slot ran both


# -- limits kill the warm child, not the slot; a killed server is replaced --------------------------


def test_timeout_and_cpu_cap_kill_the_child_not_the_slot(run, pool):
    run("print(1)\n")
    servers = _server_pids(pool)
    start = time.perf_counter()
    result, _ = run("import time\ntime.sleep(60)\n", limits=Limits(timeout=2))
    assert result.timed_out and result.returncode == -signal.SIGKILL
    assert time.perf_counter() - start < 20
    result, _ = run("while True: pass\n", limits=Limits(cpu_seconds=1))
    assert result.returncode == -signal.SIGXCPU, result.describe()
    assert _server_pids(pool) == servers


PROCESSES = "import os\nprint(len([p for p in os.listdir('/proc') if p.isdigit()]))\n"


@pytest.mark.slow  # a fork bomb on a shared machine
def test_fork_bomb_and_kill_all_leave_the_server(run, pool):
    run("print(1)\n")
    servers = _server_pids(pool)
    bomb = "import os, time\nfor _ in range(200):\n    getattr(os, 'fo' + 'rk')()\n    time.sleep(0.005)\ntime.sleep(60)\n"
    result, _ = run(bomb, limits=Limits(timeout=3))
    assert result.returncode != 0
    result, _ = run("import os, signal, subprocess, sys\nos.kill(1, signal.SIGKILL)\nos.kill(1, signal.SIGSTOP)\n"
                    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
                    "os.kill(-1, signal.SIGKILL)\nprint('still here', child.wait())\n")
    assert result.stdout == f"still here {-signal.SIGKILL}\n", result.stderr  # its child died, PID 1 did not
    result, _ = run(PROCESSES)
    assert result.stdout == "2\n" and _server_pids(pool) == servers  # the server and this script


@pytest.mark.slow  # a second server start
def test_a_killed_server_is_replaced(run, pool):
    import threading

    run("print(1)\n")
    killed = list(pool._idle)
    during = {}
    thread = threading.Thread(target=lambda: during.update(result=run("import time\ntime.sleep(60)\n")[0]))
    thread.start()
    time.sleep(3)
    for slot in killed:  # one of them runs the sleeping script
        slot.server.kill()
        slot.proc.wait(timeout=10)
    thread.join(timeout=60)
    assert during["result"].returncode == -signal.SIGKILL and "the worker is gone" in during["result"].stderr
    result, _ = run("import numpy\nprint('warm again')\n")
    assert result.stdout == "warm again\n"
    assert not {slot.server.pid for slot in killed} & _server_pids(pool)


def test_pre_imported_modules_cost_the_script_nothing(run, pool):
    """The stack is imported once per server: a script importing it uses almost no CPU (a cold
    interpreter needs more than a second for it)."""
    result, _ = run("import numpy, awkward, uproot, vector, hist, mplhep\nimport matplotlib.pyplot as plt\n")
    assert result.returncode == 0, result.stderr
    assert all(slot.threads == 1 for slot in pool._idle)  # no OpenBLAS thread when the server forks
    assert result.cpu_seconds is not None and result.cpu_seconds < 0.5, result.cpu_seconds
    assert result.startup_seconds is not None and result.startup_seconds < 5


@pytest.mark.slow  # a whole ask with validation, and a server start
def test_ask_with_warm_workers_records_it(sample, tmp_path):
    proc = run_cli("ask", "--model", "reference", "--warm", "--out", str(tmp_path / "runs"), iso.Q1, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run = only_run_dir(tmp_path / "runs")
    attempt = read_manifest(run)["attempts"][0]["run"]
    assert attempt["worker"] == "warm" and attempt["startup_seconds"] < 5
    assert read_manifest(run)["verdict"]["status"] == "correct"
    assert (run / "attempt-1" / "met.png").is_file() and not list((run / "attempt-1").glob("job-*"))


def test_folders_of_a_killed_pool_are_removed_by_the_next():
    from vibeplot.core import config

    stale = config.cache_dir() / "warm" / "warm-999999999-abc" / "slot-1" / "job-1"
    stale.mkdir(parents=True)
    (stale / "left.txt").write_text("x")
    mine = config.cache_dir() / "warm" / f"warm-{os.getpid()}-abc"
    mine.mkdir()
    pool = warm.WarmPool(size=1)
    try:
        assert not stale.parents[1].exists() and mine.exists()  # a live process's folder stays
    finally:
        pool.close()
        mine.rmdir()
    assert not pool.root.exists()


FONTS_AFTER_OPENS = """
import matplotlib.pyplot as plt, mplhep as hep
held = [open(__file__, "rb") for _ in range(20)]  # low file descriptors taken before any glyph is read
hep.style.use("CMS")
fig, ax = plt.subplots()
ax.stairs([3, 5, 2], [0, 1, 2, 3], label="Quarks & Gluons 0123456789")
ax.set_xlabel(r"$m_{\\mu\\mu}$ [GeV] xyzXYZ!?"); ax.set_ylabel("Events / bin"); ax.legend()
hep.label.exp_label(exp="CMS", data=True, lumi=5, ax=ax)
fig.savefig("fonts.png")
"""


def test_a_warm_plot_is_the_cold_plot_byte_for_byte(run, tmp_path, monkeypatch):
    """The server has loaded fonts and glyphs already (and holds the font files open): a warm script,
    which takes low file descriptors first, draws exactly what a cold interpreter draws."""
    warm_result, warm_dir = run(FONTS_AFTER_OPENS)
    assert warm_result.ok, warm_result.stderr
    cold_dir = tmp_path / "cold"
    cold_dir.mkdir()
    (cold_dir / "script.py").write_text(FONTS_AFTER_OPENS)
    with monkeypatch.context() as patch:
        patch.setattr(warm, "_active", None)  # outside the pool: a new interpreter
        cold_result = run_script(cold_dir / "script.py", workdir=cold_dir)
    assert cold_result.ok and cold_result.worker == "cold", cold_result.stderr
    assert (warm_dir / "fonts.png").read_bytes() == (cold_dir / "fonts.png").read_bytes()
