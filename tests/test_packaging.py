"""The wheel holds every file of the folders it maps into ``vibeplot`` (prompts, hint bricks,
registries, reference scripts at any depth): a file added to a new folder cannot be left out."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: source folder -> where it lands in the wheel
MAPPED = {name: f"vibeplot/{name}" for name in ("core", "cli", "stacks", "hints", "datasets", "testing")}


def _source_files() -> set[str]:
    out = set()
    for folder, target in MAPPED.items():
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
                out.add(f"{target}/{path.relative_to(ROOT / folder).as_posix()}")
    return out


@pytest.mark.slow  # builds the wheel (setuptools in an isolated environment)
@pytest.mark.skipif(shutil.which("uv") is None, reason="builds the wheel with uv (the README's install uses it)")
def test_wheel_holds_every_source_file(tmp_path):
    # from a clean copy: a build/ folder left by an earlier build would hide a missing file
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info",
                                                             "__pycache__", "*.pyc", ".pytest_cache"))
    proc = subprocess.run(["uv", "build", "--wheel", "--out-dir", str(tmp_path), str(src)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [wheel] = tmp_path.glob("vibeplot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_source_files() - names)
    assert not missing, f"not in the wheel: {missing}"
    # nothing installs a top-level module other than vibeplot (no `core`, no `cli`)
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert tops == {"vibeplot"}, tops
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    for stack in ("uproot_opendata", "servicex_awkward", "rdataframe"):
        assert f"{stack} = vibeplot.stacks.{stack}" in text


def test_source_files_are_found():
    """The test above compares against something: the prompts and the registry are among the files."""
    files = _source_files()
    assert {"vibeplot/core/questions.toml", "vibeplot/stacks/servicex_awkward/hints/servicex.md",
            "vibeplot/datasets/catalog.toml", "vibeplot/stacks/rdataframe/references/direct/adl1.py"} <= files
    assert sys.version_info >= (3, 11)
