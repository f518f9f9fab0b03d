"""Faults vibeplot does not control: it stays up and tells the truth (issue 11).

Each case asserts the exit code documented in README's "Exit codes", one clear line, no
traceback, and that nothing earlier is lost.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import run_cli
from vibeplot.core.bench.compare import SCHEMA, load_results, read_row

Q1 = "Plot the missing transverse energy of all events"


def _one_error_line(proc, *words):
    """stderr is exactly one line, ``Error: ...`` holding ``words``; no traceback anywhere."""
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


def _regular_file(tmp_path: Path) -> Path:
    f = tmp_path / "a-file"
    f.write_text("not a directory\n")
    return f


# -- --out that cannot be written, empty questions -----------------------------------------------

UNWRITABLE = [
    # (id, --out given the test's tmp_path, words in the error line)
    ("under-a-regular-file", lambda tmp: _regular_file(tmp) / "runs", ["a-file is not a directory"]),
    ("deeper-under-a-regular-file", lambda tmp: _regular_file(tmp) / "x" / "y", ["a-file is not a directory"]),
    ("inside-proc", lambda tmp: Path("/proc/vibeplot-out"), ["cannot write in /proc"]),  # not even root can
    ("read-only-directory", "chmod", ["cannot write in", "read-only"]),
]


def _out_for(case, tmp_path: Path) -> Path:
    make = case[1]
    if make != "chmod":
        return make(tmp_path)
    if os.geteuid() == 0:
        pytest.skip("root writes into a 0o555 directory (the /proc case covers root)")
    ro = tmp_path / "read-only"
    ro.mkdir()
    ro.chmod(0o555)
    return ro / "runs"


def _listing(tmp_path: Path) -> set:
    return {p.relative_to(tmp_path) for p in tmp_path.rglob("*")}


@pytest.mark.parametrize("case", UNWRITABLE, ids=[c[0] for c in UNWRITABLE])
@pytest.mark.parametrize("command", [
    ["ask", "--model", "reference", Q1],
    ["compare", "-q", "adl-1", "-s", "uproot_opendata"],
])
def test_unwritable_out_is_one_line_and_exit_2(command, case, tmp_path):
    out = _out_for(case, tmp_path)
    words = [w.replace("read-only", str(out.parent)) for w in case[2]]
    before = _listing(tmp_path)
    proc = run_cli(*command, "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    _one_error_line(proc, "--out", *words)
    assert _listing(tmp_path) == before, "nothing made: no half-made run"
    assert not (tmp_path / "vibeplot-runs").exists()


@pytest.mark.parametrize("question", ["", "   ", "\t \n"], ids=["empty", "spaces", "whitespace"])
def test_empty_question_is_one_line_and_exit_2(question, tmp_path):
    proc = run_cli("ask", "--model", "reference", question, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    _one_error_line(proc, "question is empty")
    assert not (tmp_path / "vibeplot-runs").exists()


# -- damaged compare results ---------------------------------------------------------------------

CELLS = ["uproot_opendata__reference__adl-1__t1", "uproot_opendata__reference__adl-2__t1"]


def _compare(out: Path, *extra: str):
    return run_cli("compare", "-q", "adl-1,adl-2", "-s", "uproot_opendata", "-o", str(out), *extra, cwd=out.parent)


@pytest.fixture(scope="module")
def good_compare(sample, tmp_path_factory) -> Path:
    """A finished two-cell compare (the reference baseline on adl-1 and adl-2), kept pristine."""
    out = tmp_path_factory.mktemp("faults") / "out"
    proc = _compare(out)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.stem for p in (out / "results").glob("*.parquet")) == CELLS
    return out


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(b"\0" * 4096)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _with(**changes):
    def forge(path: Path) -> None:
        row = {**pq.read_table(path).to_pylist()[0], **changes}
        pq.write_table(pa.Table.from_pylist([row], schema=SCHEMA), path)
    return forge


def _two_rows(path: Path) -> None:
    row = pq.read_table(path).to_pylist()[0]
    pq.write_table(pa.Table.from_pylist([row, row], schema=SCHEMA), path)


def _with_column_type(name: str, type_: pa.DataType, value):
    def forge(path: Path) -> None:
        table = pq.read_table(path)
        i = table.schema.get_field_index(name)
        pq.write_table(table.set_column(i, pa.field(name, type_), pa.array([value], type_)), path)
    return forge


def _other_columns(path: Path) -> None:
    pq.write_table(pa.table({"verdict": ["correct"]}), path)


DAMAGE = [
    # (id, how the first cell's file is damaged, words of the warning)
    ("truncated", _truncate, "unreadable"),
    ("zeros", _garbage, "unreadable"),
    ("empty-file", _empty, "unreadable"),
    ("columns-missing", _other_columns, "columns missing: stack, model, question, trial, attempts"),
    ("wrong-column-type", _with_column_type("trial", pa.string(), "one"), "unreadable"),
    ("forged-verdict", _with(verdict="super-correct"), "unknown verdict 'super-correct'"),
    ("null-verdict", _with(verdict=None), "unknown verdict None"),
    ("two-rows", _two_rows, "2 rows, expected 1"),
    ("another-cells-row", _with(question="adl-2"), f"holds the row of cell {CELLS[1]}"),
]


def _damaged_copy(good_compare: Path, case, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(good_compare, out)
    case[1](out / "results" / f"{CELLS[0]}.parquet")
    return out


@pytest.mark.parametrize("case", DAMAGE, ids=[c[0] for c in DAMAGE])
def test_damaged_result_is_named_and_skipped_by_readers(good_compare, case, tmp_path):
    out = _damaged_copy(good_compare, case, tmp_path)
    damaged = out / "results" / f"{CELLS[0]}.parquet"
    with pytest.raises(ValueError, match=re.escape(case[2])):
        read_row(damaged)

    warnings: list[str] = []
    rows = load_results(out, warn=warnings.append).to_pylist()
    assert [r["question"] for r in rows] == ["adl-2"]  # the good row stays, the damaged one does not count
    assert len(warnings) == 1 and f"results/{CELLS[0]}.parquet (cell {CELLS[0]})" in warnings[0]
    assert case[2] in warnings[0]


# `vibeplot report` on every kind of damage in the full suite; the everyday tier keeps two (one unreadable
# file, one forged row): each is a CLI run that draws the report's plots
@pytest.mark.parametrize("case", [pytest.param(c, marks=() if c[0] in ("truncated", "forged-verdict") else pytest.mark.slow)
                                  for c in DAMAGE], ids=[c[0] for c in DAMAGE])
def test_report_names_the_damaged_result_and_reports_the_rest(good_compare, case, tmp_path):
    out = _damaged_copy(good_compare, case, tmp_path)
    (out / "report.md").unlink()
    proc = run_cli("report", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"Warning: results/{CELLS[0]}.parquet (cell {CELLS[0]})")
    assert case[2] in lines[0] and "skipped" in lines[0]
    report = (out / "report.md").read_text()
    assert "from 1 recorded trial(s)" in report and "adl-2" in report
    # each plot links its histograms in the UHI format, the file vibeplot wrote next to the PNG
    links = re.findall(r"\(\[histograms\]\(([^)]+)\)\)", report)
    assert links and all(link.endswith(".png.uhi.json") and (out / link).is_file() for link in links), report
    summary = json.loads((out / "report" / "summary.json").read_text())
    assert list(summary["cells"]) == ["uproot_opendata|reference|adl-2"]


@pytest.mark.slow  # a compare resumed: every damaged cell run again
def test_resume_reruns_damaged_cells_and_replaces_their_files(good_compare, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(good_compare, out)
    truncated, forged = (out / "results" / f"{c}.parquet" for c in CELLS)
    _truncate(truncated)
    _with(verdict="super-correct")(forged)
    before = {p: p.stat().st_ino for p in (truncated, forged)}

    proc = _compare(out)  # without --resume, results are still refused
    assert proc.returncode == 2 and "--resume" in proc.stderr and "Traceback" not in proc.stderr

    proc = _compare(out, "--resume")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    warned = [line for line in proc.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warned) == 2, proc.stderr
    for cell, line in zip(CELLS, warned):
        assert f"results/{cell}.parquet (cell {cell}) is damaged" in line and "running the cell again" in line
    assert "super-correct" in warned[1]
    assert "2 trial(s) run, 0 already done" in proc.stdout
    for path in (truncated, forged):
        assert path.stat().st_ino != before[path], "replaced by rename, not rewritten in place"
        assert read_row(path)["verdict"] == "correct"
    assert not list((out / "results").glob(".*")), "no temporary files left"
    assert [r["verdict"] for r in load_results(out, warn=pytest.fail).to_pylist()] == ["correct", "correct"]


# -- the embedded sample, damaged in the cache --------------------------------------------------


def _zero_first_4k(path: Path) -> None:
    with open(path, "r+b") as f:
        f.write(b"\0" * 4096)


def _truncate_sample(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


SAMPLE_DAMAGE = [
    # (id, damage(sample, record), words of the warning; None: no warning)
    ("zeroed-first-4k", lambda s, r: _zero_first_4k(s), "sha256"),
    ("truncated", lambda s, r: _truncate_sample(s), "bytes, the record says"),
    ("record-missing", lambda s, r: r.unlink(), "record adl-sample-v1-2000.root.json is missing"),
    ("record-garbage", lambda s, r: r.write_text("{"), "record adl-sample-v1-2000.root.json is unreadable"),
    ("record-wrong-hash", lambda s, r: r.write_text(json.dumps({**json.loads(r.read_text()), "sha256": "0" * 64})),
     "sha256"),
    ("sample-missing", lambda s, r: s.unlink(), None),  # first use: generated quietly
]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_sample_good(path: Path, n_events: int) -> None:
    import uproot

    from vibeplot.datasets import embedded

    record = json.loads(embedded.record_path(path).read_text())
    assert record["size"] == path.stat().st_size and record["sha256"] == _sha256(path)
    assert path.stat().st_mode & 0o777 == 0o444, oct(path.stat().st_mode)
    with uproot.open(path) as f:
        assert f["Events"].num_entries == n_events
    assert not list(path.parent.glob(".*.tmp")), "no temporary files left"


@pytest.mark.parametrize("case", SAMPLE_DAMAGE, ids=[c[0] for c in SAMPLE_DAMAGE])
def test_damaged_sample_is_regenerated_with_a_warning(case, tmp_path, monkeypatch, capsys):
    from vibeplot.datasets import embedded

    monkeypatch.setenv("VIBEPLOT_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(embedded, "_checked", {})
    path = embedded.ensure_sample(2000)
    assert capsys.readouterr().err == ""  # first generation: no warning
    _assert_sample_good(path, 2000)
    inode = path.stat().st_ino
    assert embedded.ensure_sample(2000) == path and path.stat().st_ino == inode  # good: kept
    embedded._checked.clear()  # as in a new process: checked again (hashed), still kept
    assert embedded.ensure_sample(2000) == path and path.stat().st_ino == inode
    assert capsys.readouterr().err == ""

    path.chmod(0o644)
    case[1](path, embedded.record_path(path))
    embedded._checked.clear()
    assert embedded.ensure_sample(2000) == path
    err = capsys.readouterr().err
    if case[2] is None:
        assert err == ""
    else:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"Warning: the cached embedded sample {path} failed its check")
        assert case[2] in lines[0] and "generating it again" in lines[0]
    _assert_sample_good(path, 2000)


def test_zeroed_sample_is_restored_before_a_reference_run(sample, tmp_path):
    """The acceptance case: the first 4 KB of the cached sample zeroed; `ask --model reference` still
    makes its plot, warns once on stderr what was wrong, and the sample is restored."""
    from vibeplot.datasets import embedded

    cache = tmp_path / "cache"
    cache.mkdir()
    damaged = cache / sample.name
    shutil.copy2(sample, damaged)
    shutil.copy2(embedded.record_path(sample), embedded.record_path(damaged))
    good_sha = _sha256(damaged)
    damaged.chmod(0o644)
    _zero_first_4k(damaged)
    assert _sha256(damaged) != good_sha

    proc = run_cli("ask", "--model", "reference", Q1, cwd=tmp_path, env={"VIBEPLOT_CACHE_DIR": str(cache)})
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    warned = [line for line in proc.stderr.splitlines() if "Warning:" in line]
    assert len(warned) == 1 and "failed its check (sha256" in warned[0] and str(damaged) in warned[0], proc.stderr
    _assert_sample_good(damaged, embedded.DEFAULT_EVENTS)
    assert (tmp_path / "vibeplot-runs").is_dir() and list((tmp_path / "vibeplot-runs").glob("*/met.png"))
