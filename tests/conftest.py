"""Shared fixtures: an isolated cache/config per test session, the embedded sample, CLI runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


#: test files whose tests are spread over xdist workers by question: a question's runs are shared
#: by its tests (a module-level cache), not by the whole file
BY_QUESTION = {"tests/test_reference_e2e.py"}


def xdist_scope(nodeid: str) -> str:
    """The unit a pytest-xdist worker takes whole: a test file (its module fixtures then run once), or
    for :data:`BY_QUESTION` files a question (the test id's parameter starts with the question id).

    >>> xdist_scope("tests/test_cli.py::test_help[x]"), xdist_scope("tests/test_reference_e2e.py::t[adl-1-rdataframe-direct]")
    ('tests/test_cli.py', 'tests/test_reference_e2e.py::adl-1')
    """
    path, _, rest = nodeid.partition("::")
    if path not in BY_QUESTION or "[" not in rest:
        return path
    from vibeplot.core.questions import registry

    param = rest.split("[", 1)[1].rstrip("]")
    return f"{path}::{max((q for q in registry() if param == q or param.startswith(q + '-')), key=len, default=param)}"


#: test files by the time they take (measured), longest first: pytest-xdist hands them out in this order
#: (``--no-loadscope-reorder`` in pyproject.toml), so the workers finish together; the rest follow
LONGEST_FIRST = ["tests/test_compare.py", "tests/test_reference_e2e.py",
                 "tests/test_isolation.py", "tests/test_hostile_replies.py", "tests/test_fix_loop.py", "tests/test_cli.py",
                 "tests/test_faults.py", "tests/test_remote_data.py", "tests/test_hint_bricks.py",
                 "tests/test_compare_metrics.py", "tests/test_weighted_validation.py", "tests/test_followup.py",
                 "tests/test_mcp.py", "tests/test_cli_scripting.py",
                 "tests/test_xaod_preflight.py", "tests/test_sxlocal.py", "tests/test_references_crosscheck.py",
                 "tests/test_capture.py", "tests/test_testing_plugin.py", "tests/test_validate.py", "tests/test_sandbox.py",
                 "tests/test_datasets.py", "tests/test_rdataframe_stack.py", "tests/test_toy_stack_contract.py",
                 "tests/test_servicex_stack.py"]


def pytest_collection_modifyitems(items):
    """Longest files first (:data:`LONGEST_FIRST`): pytest-xdist hands out scopes in this order."""
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.partition("::")[0], len(rank)))


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker more than the cores.  Much of a test's time is waiting, not computing
    (the ServiceX client's fixed 5 s poll, scripted model latency, subprocess start-up), so a third
    worker on two cores fills those waits.  ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still decides when set."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # pytest-xdist's own hook reads it
    return len(os.sched_getaffinity(0)) + 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) + 1


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadscope`` (pyproject.toml) with :func:`xdist_scope` as the scope."""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FileOrQuestion(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_scope(nodeid)

    return FileOrQuestion(config, log)


@pytest.fixture(scope="session", autouse=True)
def isolated_env(tmp_path_factory):
    """No user config, cache or credentials leak into the tests."""
    cache = tmp_path_factory.mktemp("vibeplot-cache")
    saved = dict(os.environ)
    os.environ["VIBEPLOT_CACHE_DIR"] = str(cache)
    os.environ["VIBEPLOT_CONFIG"] = str(cache / "no-config.toml")
    for key in list(os.environ):
        if key.startswith("VIBEPLOT_") and key not in ("VIBEPLOT_CACHE_DIR", "VIBEPLOT_CONFIG"):
            del os.environ[key]
        if key.endswith("_API_KEY"):
            del os.environ[key]
    yield cache
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def sample(isolated_env) -> Path:
    """The default embedded sample (generated once per session into the test cache)."""
    from vibeplot.datasets import embedded

    return embedded.ensure_sample()


@pytest.fixture(scope="session")
def shared_servicex(isolated_env, tmp_path_factory):
    """One local ServiceX backend for the session, for runs whose test is not about the backend's
    start-up: pass ``{SHARED_ENV: shared_servicex.url}`` to :func:`run_cli`, or use
    :func:`servicex_env`.  Its log is ``shared_servicex.log_path``; :class:`LogSlice` reads the part
    one run wrote.  (The per-attempt backend and its log stay tested in tests/test_fix_loop.py.)"""
    from vibeplot.core.servicex.local import LocalServiceX

    with LocalServiceX(log_path=tmp_path_factory.mktemp("shared-servicex") / "servicex-backend.log") as backend:
        yield backend


@pytest.fixture
def servicex_env(shared_servicex, monkeypatch):
    """``$VIBEPLOT_LOCAL_SERVICEX`` set to the session's backend for this test (in-process and CLI runs)."""
    from vibeplot.core.servicex.local.launcher import SHARED_ENV

    monkeypatch.setenv(SHARED_ENV, shared_servicex.url)
    return shared_servicex


class LogSlice:
    """What a log file gained between construction and :meth:`read` (one run's lines of a shared log)."""

    def __init__(self, path: Path):
        self.path, self.start = Path(path), Path(path).stat().st_size

    def read(self) -> str:
        with open(self.path, "rb") as log:
            log.seek(self.start)
            return log.read().decode("utf-8", errors="replace")


def run_cli(*args: str, cwd: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the installed ``vibeplot`` console script as a user would."""
    exe = Path(sys.executable).with_name("vibeplot")
    return subprocess.run(
        [str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def read_manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


def only_run_dir(out: Path) -> Path:
    runs = [p for p in out.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]
