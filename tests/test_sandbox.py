import os
import sys
import textwrap
import time

import psutil

from vibeplot.core.sandbox import run as sandbox
from vibeplot.core.sandbox.run import Limits, build_env, run_script


def _script(tmp_path, body: str):
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(body))
    return path


def test_png_written_means_ok(tmp_path):
    script = _script(tmp_path, """
        import matplotlib.pyplot as plt
        plt.plot([1, 2, 3]); plt.savefig("x.png")
        print("done")
    """)
    result = run_script(script, workdir=tmp_path)
    assert result.ok, result.stderr
    assert [p.name for p in result.new_pngs] == ["x.png"]
    assert result.stdout.strip() == "done"


def test_exit_zero_without_png_is_not_ok(tmp_path):
    result = run_script(_script(tmp_path, "print('hi')\n"), workdir=tmp_path)
    assert result.returncode == 0 and not result.ok
    assert "no PNG" in result.describe()


def test_traceback_kept_in_full(tmp_path):
    result = run_script(_script(tmp_path, "print('x' * 10)\nraise ValueError('boom')\n"), workdir=tmp_path)
    assert result.returncode == 1
    assert "ValueError: boom" in result.stderr
    assert (tmp_path / "stderr.txt").read_text() == result.stderr


def alive_with(marker: str) -> list[int]:
    """Host pids of live (non-zombie) processes whose command line contains ``marker``."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        if proc.info["status"] != psutil.STATUS_ZOMBIE and marker in " ".join(proc.info["cmdline"] or []):
            found.append(proc.pid)
    return found


def test_sleeping_forever_is_killed_with_its_whole_group(tmp_path):
    marker = f"vp-sleeper-{os.getpid()}-{time.time_ns()}"
    script = _script(tmp_path, f"""
        import os, subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)", "{marker}"])
        time.sleep(1000)
    """)
    start = time.perf_counter()
    result = run_script(script, workdir=tmp_path, limits=Limits(timeout=2))
    assert result.timed_out and not result.ok
    assert time.perf_counter() - start < 10
    time.sleep(0.2)
    assert alive_with(marker) == []


def test_without_isolation_an_escaped_process_is_still_ended(tmp_path):
    """No PID namespace: a process that left the group with setsid is ended from the descendants seen."""
    marker = f"vp-escapee-{os.getpid()}-{time.time_ns()}"
    script = _script(tmp_path, f"""
        import os, sys, time
        if os.fork() == 0:
            os.setsid()
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(1000)", "{marker}"])
        time.sleep(1)
    """)
    result = run_script(script, workdir=tmp_path, limits=Limits(isolation="none"))
    assert result.isolation == "none" and result.returncode == 0
    time.sleep(0.2)
    assert alive_with(marker) == []


def test_memory_hog_is_stopped(tmp_path):
    script = _script(tmp_path, """
        import numpy as np, time
        blocks = []
        for _ in range(40):                 # up to 4 GB, 100 MB at a time, each page touched
            blocks.append(np.ones(100 * 2**20 // 8))
            time.sleep(0.02)
        print("survived")
    """)
    result = run_script(script, workdir=tmp_path, limits=Limits(memory_mb=400))
    assert result.memory_exceeded
    assert "survived" not in result.stdout
    assert 400 < result.peak_rss_mb < 2000
    assert "memory limit" in result.describe()


def test_cpu_time_cap(tmp_path):
    result = run_script(_script(tmp_path, "while True: pass\n"), workdir=tmp_path,
                        limits=Limits(cpu_seconds=1, timeout=30))
    assert result.returncode is not None and result.returncode < 0
    assert "CPU-time" in result.describe()


def test_credentials_do_not_reach_the_script(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret")
    monkeypatch.setenv("GITHUB_TOKEN", "gh-secret")
    script = _script(tmp_path, """
        import os, json
        print(json.dumps(dict(os.environ)))
    """)
    result = run_script(script, workdir=tmp_path, extra_env={"MY_API_KEY": "x", "FINE": "1"})
    assert "sk-secret" not in result.stdout
    assert "aws-secret" not in result.stdout and "gh-secret" not in result.stdout
    env = __import__("json").loads(result.stdout)
    assert "OPENAI_API_KEY" not in env and "MY_API_KEY" not in env
    assert env["FINE"] == "1" and env["MPLBACKEND"] == "Agg"
    assert env["HOME"] != os.environ.get("HOME")


def test_allowed_secret_passes_only_when_named():
    env = build_env({"SERVICEX_TOKEN_FILE": "/x"}, allow_secrets={"SERVICEX_TOKEN_FILE"})
    assert env["SERVICEX_TOKEN_FILE"] == "/x"
    assert "SERVICEX_TOKEN_FILE" not in build_env({"SERVICEX_TOKEN_FILE": "/x"})


def test_script_runs_as_a_file_in_its_workdir(tmp_path):
    script = _script(tmp_path, """
        import inspect, os
        f = lambda x: x + 1
        print(os.getcwd()); print(inspect.getsource(f).strip())
    """)
    result = run_script(script, workdir=tmp_path)
    out = result.stdout.splitlines()
    assert out[0] == str(tmp_path)
    assert out[1] == "f = lambda x: x + 1"


def test_tail_says_what_was_cut():
    text = "\n".join(f"line {i}" for i in range(100))
    short = sandbox.tail(text, max_lines=5)
    assert short.endswith("line 99") and "earlier characters cut" in short
    assert sandbox.tail("short") == "short"


def test_after_import_runs_every_patch_for_one_module(tmp_path, monkeypatch):
    """Two hooks patching the same module (capture and values both patch ROOT) both run."""
    import sys

    from vibeplot.core.sandbox.child.patch import after_import

    (tmp_path / "vp_fake_module.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    calls = []
    after_import("vp_fake_module", lambda m: calls.append(("first", m.X)))
    after_import("vp_fake_module", lambda m: calls.append(("second", m.X)))
    try:
        import vp_fake_module  # noqa: F401
    finally:
        sys.modules.pop("vp_fake_module", None)
    assert calls == [("first", 1), ("second", 1)]


def test_output_is_capped_keeping_both_ends(tmp_path):
    """The unit view of tests/test_isolation.py's huge-stdout case (which runs in the full suite)."""
    script = _script(tmp_path, """
        import sys
        print("FIRST")
        for _ in range(3 * 1024):
            sys.stdout.write("y" * 1023 + "\\n")
        print("LAST")
    """)
    result = run_script(script, workdir=tmp_path, limits=Limits(output_mb=1))
    assert result.returncode == 0
    assert result.cut_bytes > 2 * 2**20
    assert result.stdout_path.stat().st_size <= 1.1 * 2**20
    text = result.stdout
    assert text.startswith("FIRST") and text.rstrip().endswith("LAST")


def test_fake_and_linked_pngs_are_refused(tmp_path):
    """The unit view of the fake-png case: not a PNG, or not a regular file (a link to a secret)."""
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the script")
    script = _script(tmp_path, f"""
        import os
        open("met.png", "w").write("this is not an image")
        os.symlink({str(secret)!r}, "linked.png")
    """)
    result = run_script(script, workdir=tmp_path)
    assert not result.ok and result.new_pngs == []
    assert any("met.png" in r and "not a PNG image" in r for r in result.rejected), result.rejected
    assert any("linked.png" in r and "not a regular file" in r for r in result.rejected), result.rejected


def test_more_pngs_than_the_cap_are_refused(tmp_path):
    script = _script(tmp_path, """
        import matplotlib.pyplot as plt, shutil
        plt.plot([1, 2]); plt.savefig("a.png")
        for i in range(4):
            shutil.copy("a.png", f"copy-{i}.png")
    """)
    result = run_script(script, workdir=tmp_path, limits=Limits(max_plots=3))
    assert not result.ok
    assert "more than the cap of 3" in result.describe(), result.describe()


def test_missing_bytecode_is_found_and_doctor_says_so(tmp_path, monkeypatch):
    """Scripts cannot write .pyc into the read-only environment: doctor names packages installed without."""
    from conftest import run_cli

    from vibeplot.core.sandbox.run import missing_bytecode

    pkg = tmp_path / "site" / "vp_uncompiled_pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert missing_bytecode(["vp_uncompiled_pkg", "json"]) == ["vp_uncompiled_pkg"]
    import py_compile

    py_compile.compile(str(pkg / "__init__.py"), doraise=True)
    assert missing_bytecode(["vp_uncompiled_pkg"]) == []

    proc = run_cli("doctor", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    expected = "bytecode: installed" if not missing_bytecode() else "bytecode: none installed for"
    assert expected in proc.stdout
