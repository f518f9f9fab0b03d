"""The PHYSLITE hint bricks hold code that really translates.

Every ```python block of ``funcadl_physlite.md`` and ``xaod_btagging.md`` that builds a
``query`` is run (after the brick's other blocks, e.g. the b-tagging helpers), and the
query goes through the same two offline steps ServiceX would take: func_adl turns it into
qastle, and the local xAOD code generator turns the qastle into C++.  A misspelt method
does not raise anywhere on that path; it is only logged ("Method X not found on object",
"assuming that the method ... has return type"), so the test listens to those loggers.

FuncADL reads each lambda's source text, so the blocks are written to files and run with
``runpy`` rather than ``exec``-ed from strings.
"""

from __future__ import annotations

import contextlib
import logging
import pathlib
import re
import runpy
import textwrap

import pytest

pytest.importorskip("func_adl_servicex_xaodr25")
pytest.importorskip("servicex_local")

HINTS = pathlib.Path(__file__).resolve().parents[1] / "hints"
PHYSLITE_BRICK = HINTS / "funcadl_physlite.md"
BTAG_BRICK = HINTS / "xaod_btagging.md"

# Loggers that report a method or name the type system does not know.
WATCHED_LOGGERS = ("func_adl", "func_adl_xAOD")
BAD_MESSAGES = ("not found", "assuming that the method", "Unknown type for name")

_PY_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
_BUILDS_QUERY = re.compile(r"^query\s*=", re.M)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def watched_warnings():
    """Collect WARNING+ records of the func_adl loggers, whatever their configuration."""
    handler = _Collect()
    saved = []
    for name in WATCHED_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.disabled))
        logger.setLevel(logging.WARNING)
        logger.disabled = False
        logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        for logger, level, disabled in saved:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.disabled = disabled


def python_blocks(brick: pathlib.Path) -> list[str]:
    return [textwrap.dedent(b) for b in _PY_BLOCK.findall(brick.read_text())]


def query_scripts(brick: pathlib.Path) -> list[str]:
    """One script per query-building block: the brick's other blocks, then that block."""
    blocks = python_blocks(brick)
    support = [b for b in blocks if not _BUILDS_QUERY.search(b)]
    return ["\n\n".join(support + [b]) for b in blocks if _BUILDS_QUERY.search(b)]


def translate(script: str, workdir: pathlib.Path, name: str) -> tuple[str, list[logging.LogRecord]]:
    """Run `script` from a file, translate its `query` to C++; return query.cxx and warnings."""
    from servicex_local.codegen import LocalXAODCodegen

    src = workdir / f"{name}.py"
    src.write_text(script)
    out = workdir / f"{name}_cpp"
    out.mkdir()
    with watched_warnings() as records:
        namespace = runpy.run_path(str(src), run_name=f"hint_{name}")
        qastle = namespace["query"].generate_selection_string()
        LocalXAODCodegen().gen_code(qastle, out)
    cxx = out / "query.cxx"
    assert cxx.exists(), f"code generation wrote no query.cxx for {name}"
    return cxx.read_text(), list(records)


def bad(records: list[logging.LogRecord]) -> list[str]:
    return [r.getMessage() for r in records if any(m in r.getMessage() for m in BAD_MESSAGES)]


def test_bricks_have_query_blocks():
    assert len(query_scripts(PHYSLITE_BRICK)) >= 1
    btag_blocks = python_blocks(BTAG_BRICK)
    assert len(btag_blocks) >= 2, "expected the helper block and a usage block"
    assert len(query_scripts(BTAG_BRICK)) >= 1
    for brick in (PHYSLITE_BRICK, BTAG_BRICK):
        for i, block in enumerate(python_blocks(brick)):
            compile(block, f"{brick.name}[{i}]", "exec")


def test_physlite_brick_queries_translate_cleanly(tmp_path):
    for i, script in enumerate(query_scripts(PHYSLITE_BRICK)):
        cxx, records = translate(script, tmp_path, f"physlite{i}")
        assert not records, [r.getMessage() for r in records]
        # PHYSLITE container names the collections resolve to.
        assert '"AnalysisJets"' in cxx
        assert '"MET_Core_AnalysisMET"' in cxx


def test_btag_brick_query_translates_with_tool(tmp_path):
    for i, script in enumerate(query_scripts(BTAG_BRICK)):
        cxx, records = translate(script, tmp_path, f"btag{i}")
        assert not records, [r.getMessage() for r in records]
        header = (tmp_path / f"btag{i}_cpp" / "query.h").read_text()
        cmake = (tmp_path / f"btag{i}_cpp" / "package_CMakeLists.txt").read_text()
        assert "BTaggingSelectionTool" in cxx
        assert "xAODBTaggingEfficiency/BTaggingSelectionTool.h" in header
        assert '"OperatingPoint", "FixedCutBEff_77"' in cxx
        assert '"TaggerName", "GN2v01"' in cxx
        assert "->initialize()" in cxx
        assert "->accept(*" in cxx
        assert "->getTaggerWeight(*" in cxx
        assert "xAODBTaggingEfficiencyLib" in cmake


def test_misspelt_method_is_caught(tmp_path):
    script = textwrap.dedent(
        """
        from func_adl_servicex_xaodr25 import FuncADLQueryPHYSLITE

        query = (FuncADLQueryPHYSLITE()
            .Select(lambda e: {"jets": e.Jets()})
            .Select(lambda c: {"jet_pt": c.jets.Select(lambda j: j.ptt() / 1000.0)}))
        """
    )
    _, records = translate(script, tmp_path, "misspelt")
    messages = bad(records)
    assert any("Method ptt not found" in m for m in messages), messages
    assert any("assuming that the method" in m and "ptt" in m for m in messages), messages
