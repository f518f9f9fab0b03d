"""Shared fixtures: an isolated cache/config per test session, the embedded sample, CLI runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


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
