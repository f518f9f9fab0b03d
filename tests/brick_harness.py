"""Runs the code of hint bricks: every ```python block and every ``check`` note, in document order.

Used by tests/test_hint_bricks.py, in a subprocess per brick::

    python tests/brick_harness.py RESULT.json SAMPLE BRICK.md [BRICK.md ...]

A brick is markdown (see :mod:`vibeplot.core.ask.prompt`).  Lines that are only an HTML comment
are notes, never sent to the model; the harness reads these:

``<!-- given: CODE -->``
    Code run before what follows, in the brick's namespace: what the script around a fragment
    would have defined (``path``, a query ``q``, imports).  Its names stay for the rest of the brick.
``<!-- check: CODE -->``
    Asserts what the text around it claims, run against the installed libraries in a copy of the
    brick's namespace (its names do not leak into later pieces).
``<!-- no-run: REASON -->``
    Directly before a code block that cannot be run: the block is only compiled.  The reason is
    required.
``<!-- when: REGEX -->``
    Read by the prompt builder (which questions get the brick); the harness ignores it.

Every other note is an error, and so is a fenced block that is not python unless it is marked
``no-run``.  A python block is run as written, after the brick's earlier blocks and ``given``
notes, in one namespace, from a file (FuncADL reads lambdas from source files).  An unmarked block
that cannot run fails: declare what it needs with ``given`` or mark it ``no-run`` with the reason.

The namespace starts with:

``SAMPLE``
    the path of the embedded ADL sample (tree ``Events``);
``translate(query) -> (cxx, log)``
    translates an ATLAS xAOD FuncADL query to C++ offline, the way ServiceX would (func_adl's
    qastle, then servicex_local's xAOD code generator): ``cxx`` is ``query.cxx``, ``log`` the
    WARNING+ log messages of the current piece so far (func_adl reports unknown methods and
    calibration fall-backs only there);
``translated(name) -> str``
    another file of the last translation (``query.h``, ``package_CMakeLists.txt``).

After each block, every xAOD query the block bound to a name is translated, and the block fails
if anything logged an error or a warning that the code is wrong (an unknown method or type, a
fallback to the default calibration).  The working directory holds ``servicex.yaml`` for a local
ServiceX backend when the brick calls ``deliver``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import tempfile
import textwrap
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

#: notes the harness or the prompt builder reads; anything else is a mistake
KNOWN_NOTES = ("given", "check", "no-run", "when")
#: log messages that mean a block's code is wrong even though nothing raised
BAD_LOG = ("not found", "assuming that the method", "Unknown type for name",
           "default calibration configuration")
WATCHED_LOGGERS = ("", "func_adl", "func_adl_xAOD", "servicex", "servicex_analysis_utils")

_FENCE = re.compile(r"^(`{3,})[ \t]*(\S*)[ \t]*(.*)$")


@dataclass
class Piece:
    kind: str  # "block", "given", "check", "no-run-block"
    line: int  # 1-based line of the piece in the brick
    code: str
    language: str = "python"
    reason: str = ""


@dataclass
class Outcome:
    line: int
    kind: str
    status: str  # "ok", "failed", "compiled", "not run"
    detail: str = ""
    seconds: float = 0.0


class BrickError(ValueError):
    """The brick's notes or fences are malformed."""


def parse(text: str, name: str = "brick") -> list[Piece]:
    """The pieces of a brick in document order (raises :class:`BrickError` for malformed notes)."""
    lines = text.splitlines()
    pieces: list[Piece] = []
    pending_no_run: tuple[int, str] | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("<!--"):
            start = i
            body = [stripped[4:]]
            while "-->" not in body[-1]:
                i += 1
                if i == len(lines):
                    raise BrickError(f"{name}:{start + 1}: note not closed with -->")
                body.append(lines[i])
            last = body[-1]
            if last[last.index("-->") + 3:].strip():
                raise BrickError(f"{name}:{i + 1}: text after --> on a note's last line")
            body[-1] = last[:last.index("-->")]
            note = "\n".join(body).strip()
            key, sep, rest = note.partition(":")
            key = key.strip()
            if not sep or key not in KNOWN_NOTES:
                raise BrickError(f"{name}:{start + 1}: unknown note {note[:40]!r}; notes are "
                                 + ", ".join(f"'{k}: ...'" for k in KNOWN_NOTES))
            rest = rest.strip("\n").rstrip()
            if key in ("given", "check"):
                code = textwrap.dedent(rest.lstrip(" \t").strip("\n")).strip() + "\n"
                if not code.strip():
                    raise BrickError(f"{name}:{start + 1}: empty {key} note")
                pieces.append(Piece(key, start + 1, code))
            elif key == "no-run":
                if not rest.strip():
                    raise BrickError(f"{name}:{start + 1}: no-run needs a reason")
                pending_no_run = (start + 1, rest.strip())
            i += 1
            continue
        fence = _FENCE.match(line)
        if fence:
            start = i
            ticks, language = fence[1], fence[2].lower()
            body = []
            i += 1
            while i < len(lines) and not lines[i].startswith(ticks):
                body.append(lines[i])
                i += 1
            if i == len(lines):
                raise BrickError(f"{name}:{start + 1}: code block not closed")
            code = "\n".join(body) + "\n"
            if pending_no_run is not None:
                pieces.append(Piece("no-run-block", start + 1, code, language, pending_no_run[1]))
                pending_no_run = None
            elif language != "python":
                raise BrickError(f"{name}:{start + 1}: a ```{language or '(no language)'} block: only python "
                                 "blocks are run; mark others with <!-- no-run: REASON -->")
            else:
                pieces.append(Piece("block", start + 1, code))
            i += 1
            continue
        if stripped and pending_no_run is not None:
            raise BrickError(f"{name}:{pending_no_run[0]}: a no-run note must come directly before its block")
        i += 1
    if pending_no_run is not None:
        raise BrickError(f"{name}:{pending_no_run[0]}: no-run note without a block after it")
    return pieces


# ----------------------------------------------------------------------------- running


class _Log(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record not in self.records:
            self.records.append(record)

    def messages(self) -> list[str]:
        return [r.getMessage() for r in self.records]

    def problems(self) -> list[str]:
        return [f"{r.levelname} {r.name}: {r.getMessage()}" for r in self.records
                if r.levelno >= logging.ERROR or any(bad in r.getMessage() for bad in BAD_LOG)]


def _is_xaod_query(value) -> bool:
    return hasattr(value, "generate_selection_string") and "xaod" in type(value).__module__.lower()


def run_brick(path: Path, sample: str, workdir: Path) -> list[Outcome]:
    """Run every piece of the brick at ``path``; one outcome per piece."""
    log = _Log()
    loggers = [logging.getLogger(name) for name in WATCHED_LOGGERS]
    for logger in loggers:
        logger.addHandler(log)
        logger.disabled = False
        if logger.name != "root" and logger.getEffectiveLevel() > logging.WARNING:
            logger.setLevel(logging.WARNING)
    try:
        return _run_pieces(path, sample, workdir, log)
    finally:
        for logger in loggers:
            logger.removeHandler(log)


def _run_pieces(path: Path, sample: str, workdir: Path, log: _Log) -> list[Outcome]:
    last_dir: list[Path] = []

    def translate(query):
        from servicex_local.codegen import LocalXAODCodegen

        out = Path(tempfile.mkdtemp(prefix="cpp-", dir=workdir))
        LocalXAODCodegen().gen_code(query.generate_selection_string(), out)
        last_dir[:] = [out]
        return (out / "query.cxx").read_text(), log.messages()

    def translated(name: str) -> str:
        return (last_dir[0] / name).read_text()

    namespace: dict = {"__name__": "__hint__", "SAMPLE": sample, "translate": translate, "translated": translated}
    outcomes: list[Outcome] = []
    broken = False
    for n, piece in enumerate(parse(path.read_text(encoding="utf-8"), path.name)):
        outcome = Outcome(piece.line, piece.kind, "ok")
        outcomes.append(outcome)
        source = workdir / f"{path.stem}_{n:02d}_{piece.kind}_line{piece.line}.py"
        source.write_text(piece.code, encoding="utf-8")
        if piece.kind == "no-run-block":
            if piece.language == "python":
                try:
                    compile(piece.code, str(source), "exec")
                except SyntaxError as err:
                    outcome.status, outcome.detail = "failed", f"does not compile: {err}"
                    continue
            outcome.status, outcome.detail = "compiled", piece.reason
            continue
        if broken:
            outcome.status, outcome.detail = "not run", "an earlier block or given note failed"
            continue
        log.records.clear()
        started = time.perf_counter()
        scope = namespace if piece.kind in ("block", "given") else dict(namespace)
        before = dict(namespace)
        try:
            exec(compile(piece.code, str(source), "exec"), scope)
            if piece.kind == "block":
                for name, value in namespace.items():
                    if _is_xaod_query(value) and before.get(name) is not value:
                        translate(value)
                problems = log.problems()
                if problems:
                    raise AssertionError("the block logged problems:\n" + "\n".join(problems))
        except BaseException as err:  # noqa: BLE001 - every failure is reported, none ends the run
            outcome.status = "failed"
            outcome.detail = "".join(traceback.format_exception(err)[-12:])
            if piece.kind != "check":
                broken = True
        outcome.seconds = round(time.perf_counter() - started, 2)
        sys.stdout.flush()
    return outcomes


def main(argv: list[str]) -> int:
    result, sample, *bricks = argv
    report = {}
    for brick in bricks:
        path = Path(brick)
        with tempfile.TemporaryDirectory(prefix=f"brick-{path.stem}-", dir=".") as tmp:
            try:
                report[brick] = [asdict(o) for o in run_brick(path, sample, Path(tmp).resolve())]
            except BrickError as err:
                report[brick] = [asdict(Outcome(0, "parse", "failed", str(err)))]
    Path(result).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
