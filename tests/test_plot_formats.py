"""Plots in other formats (ask --format png,pdf,svg): the capture module saves each PNG's figure
again as PDF/SVG; vibeplot keeps such a file only when it passes its checks, and run.json records it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import only_run_dir, run_cli
from vibeplot.core import config
from vibeplot.core.errors import ConfigError
from vibeplot.core.sandbox.run import Limits, check_extra, run_script

SCRIPT = """\
import matplotlib.pyplot as plt
fig, ax = plt.subplots()
ax.stairs([1, 3, 2], [0, 1, 2, 3])
ax.set_xlabel("x [GeV]")
fig.savefig("a.png", format="png", bbox_inches="tight")
fig.savefig("b.png")
# the script then writes its own files over b's other formats: they must not pass
open("b.pdf", "wb").write(b"not a pdf")
open("b.svg", "w").write('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>')
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    work = tmp_path_factory.mktemp("formats")
    (work / "plot.py").write_text(SCRIPT)
    return work, run_script(work / "plot.py", workdir=work, limits=Limits(extra_formats=("pdf", "svg")))


def test_each_png_is_also_saved_in_the_formats_asked_for(run):
    work, result = run
    assert result.ok, result.stderr
    assert result.extra_files == {"a.png": ["a.pdf", "a.svg"]}
    assert (work / "a.pdf").read_bytes().startswith(b"%PDF-")
    assert b"<svg" in (work / "a.svg").read_bytes()[:4096]


def test_files_the_script_forged_are_refused_and_deleted(run):
    work, result = run
    assert sorted(result.extra_rejected) == ["b.pdf is not a PDF file",
                                             "b.svg is not a plain SVG drawing (scripts, handlers or external references)"]
    assert not (work / "b.pdf").exists() and not (work / "b.svg").exists()
    assert result.new_pngs and not result.rejected  # the PNGs still count


def test_nothing_extra_unless_asked(tmp_path):
    (tmp_path / "plot.py").write_text(SCRIPT.split("# the script")[0])
    result = run_script(tmp_path / "plot.py", workdir=tmp_path)
    assert result.ok and result.extra_files == {} and not list(tmp_path.glob("*.pdf"))


@pytest.mark.parametrize("name, data, fmt, why", [
    ("ok.pdf", b"%PDF-1.4\n...", "pdf", None),
    ("png.pdf", b"\x89PNG\r\n\x1a\n", "pdf", "png.pdf is not a PDF file"),
    ("ok.svg", b'<?xml version="1.0"?>\n<svg><path fill="url(#h1)"/><use xlink:href="#p"/></svg>', "svg", None),
    ("js.svg", b"<svg><a href='javascript:alert(1)'>x</a></svg>", "svg", "js.svg is not a plain SVG drawing"),
    ("script.svg", b"<svg><script>alert(1)</script></svg>", "svg", "script.svg is not a plain SVG drawing"),
    ("remote.svg", b'<svg><image href="https://example.org/x.png"/></svg>', "svg", "remote.svg is not a plain SVG"),
    ("entity.svg", b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>', "svg",
     "entity.svg is not a plain SVG"),
    ("html.svg", b"<html><body>no svg</body></html>", "svg", "html.svg is not an SVG file"),
    ("big.pdf", b"%PDF-" + b"0" * 2000, "pdf", "big.pdf is 0 MB, over the 0 MB cap"),
])
def test_check_extra(tmp_path, name, data, fmt, why):
    (tmp_path / name).write_bytes(data)
    got = check_extra(tmp_path / name, fmt, 1000)
    assert (got is None) if why is None else (got is not None and got.startswith(why)), got


def test_a_link_is_not_a_plot(tmp_path):
    (tmp_path / "real.pdf").write_bytes(b"%PDF-1.4")
    os.symlink(tmp_path / "real.pdf", tmp_path / "link.pdf")
    assert check_extra(tmp_path / "link.pdf", "pdf", 1000) == "link.pdf is not a regular file"


def test_format_setting(monkeypatch):
    assert config.formats_setting("png,pdf,svg") == ("pdf", "svg") and config.formats_setting("png") == ()
    monkeypatch.setenv("VIBEPLOT_FORMAT", "pdf")
    assert config.formats_setting() == ("pdf",)
    with pytest.raises(ConfigError, match="eps is not one of png, pdf, svg"):
        config.formats_setting("png,eps")


def test_bad_format_stops_before_any_work(tmp_path):
    proc = run_cli("ask", "--model", "reference", "--format", "png,gif", "adl-1", cwd=tmp_path)
    assert proc.returncode == 2 and "gif is not one of png, pdf, svg" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "vibeplot-runs").exists()


@pytest.mark.slow
def test_ask_format_records_the_other_files(tmp_path, sample):
    """ask --format png,pdf: the run directory has NAME.pdf next to NAME.png, run.json its sha256."""
    import hashlib

    proc = run_cli("ask", "--model", "reference", "--format", "png,pdf", "adl-1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run = only_run_dir(tmp_path / "vibeplot-runs")
    manifest = json.loads((run / "run.json").read_text())
    (png,) = manifest["plots"]
    entry = manifest["plot_formats"][png]["pdf"]
    pdf = run / entry["file"]
    assert pdf.name == Path(png).with_suffix(".pdf").name and pdf.read_bytes().startswith(b"%PDF-")
    assert entry["sha256"] == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert manifest["limits"]["extra_formats"] == ["pdf"]


def test_rerun_bad_format_stops_before_looking_for_the_run(tmp_path):
    proc = run_cli("rerun", "no-such-run", "--format", "png,tiff", cwd=tmp_path)
    assert proc.returncode == 2 and "tiff is not one of png, pdf, svg" in proc.stderr, proc.stderr


@pytest.mark.slow
def test_compare_format_saves_every_cell_in_the_other_formats(tmp_path, sample):
    """compare --format png,svg: each cell's run keeps NAME.svg next to NAME.png; a bad value exits 2."""
    proc = run_cli("compare", "-q", "adl-1", "-s", "uproot_opendata", "-m", "reference", "--trials", "1",
                   "--format", "png,svg", "--out", str(tmp_path / "cmp"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (run_json,) = (tmp_path / "cmp" / "runs").glob("*/*/run.json")
    manifest = json.loads(run_json.read_text())
    (png,) = manifest["plots"]
    assert (run_json.parent / manifest["plot_formats"][png]["svg"]["file"]).read_bytes().lstrip().startswith(b"<")
    bad = run_cli("compare", "-q", "adl-1", "-m", "reference", "--format", "png,gif", "--out", str(tmp_path / "x"),
                  cwd=tmp_path)
    assert bad.returncode == 2 and "gif is not one of png, pdf, svg" in bad.stderr and not (tmp_path / "x").exists()
