"""Hint bricks say what the installed libraries do, and only questions that need a brick get it.

Every ```python block and every ``check`` note of every brick (``hints/*.md``,
``stacks/*/hints/*.md``) runs through ``tests/brick_harness.py`` (its docstring has the rules):
blocks in order, against the embedded sample; ATLAS xAOD queries translated to C++ offline, the way
ServiceX would; ServiceX blocks against the local ServiceX backend; RDataFrame blocks in ROOT. A
new block or check is picked up by itself; a block that cannot run fails unless it is marked
``<!-- no-run: REASON -->``; a check fails when a library contradicts the claim next to it.

Bricks whose code uses ROOT or ``deliver`` are slow (ROOT's start-up and JIT; the ServiceX client
polls every ~5 s), the others run in one subprocess in the fast tier.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from brick_harness import BrickError, parse
from vibeplot.core import plugins
from vibeplot.core.ask import prompt
from vibeplot.core.questions import registry
from vibeplot.core.resolver import Dataset

ROOT = Path(__file__).resolve().parents[1]
HARNESS = Path(__file__).with_name("brick_harness.py")
BRICKS = sorted([*(ROOT / "hints").glob("*.md"), *(ROOT / "stacks").glob("*/hints/*.md")])
pytestmark = pytest.mark.timeout(900)


def _code(brick: Path) -> str:
    return "\n".join(p.code for p in parse(brick.read_text(encoding="utf-8"), brick.name))


def needs(brick: Path) -> set[str]:
    """What running the brick needs: "root" (ROOT and g++), "servicex" (a backend), "xaod" (the
    offline xAOD translator)."""
    code = _code(brick)
    found = set()
    if re.search(r"\bimport ROOT\b", code):
        found.add("root")
    if "deliver(" in code:
        found.add("servicex")
    if re.search(r"\btranslate\(|FuncADLQueryPHYS", code):
        found.add("xaod")
    return found


def missing(requirements: set[str]) -> list[str]:
    problems = []
    if "root" in requirements and (importlib.util.find_spec("ROOT") is None or shutil.which("g++") is None):
        problems.append("ROOT (the rdataframe extra) and g++")
    if "xaod" in requirements and importlib.util.find_spec("servicex_local") is None:
        problems.append("servicex_local (the xaod-preflight extra)")
    return problems


def tier(brick: Path) -> str:
    return "slow" if needs(brick) & {"root", "servicex"} else "fast"


def _runnable(brick: Path) -> bool:
    return any(p.kind != "no-run-block" for p in parse(brick.read_text(encoding="utf-8"), brick.name))


def run_harness(bricks: list[Path], sample: Path, cwd: Path) -> dict[str, list[dict]]:
    """Outcomes per brick (path -> list of piece outcomes) from one harness subprocess."""
    result = cwd / "outcomes.json"
    proc = subprocess.run([sys.executable, str(HARNESS), str(result), str(sample), *map(str, bricks)],
                          cwd=cwd, capture_output=True, text=True, timeout=800,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.is_file(), f"the harness wrote no outcomes (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    return json.loads(result.read_text())


_OUTCOMES: dict[str, dict] = {}


@pytest.fixture
def outcomes(request, sample, tmp_path_factory):
    """The harness's outcomes for every runnable brick of a tier, run once per tier."""
    def get(brick: Path) -> list[dict]:
        name = tier(brick)
        if name not in _OUTCOMES:
            bricks = [b for b in BRICKS if tier(b) == name and _runnable(b) and not missing(needs(b))]
            cwd = tmp_path_factory.mktemp(f"bricks-{name}")
            if any("servicex" in needs(b) for b in bricks):
                request.getfixturevalue("shared_servicex").write_config(cwd)
            _OUTCOMES[name] = run_harness(bricks, sample, cwd)
        return _OUTCOMES[name][str(brick)]
    return get


def _brick_param(brick: Path):
    marks = [pytest.mark.slow] if tier(brick) == "slow" else []
    return pytest.param(brick, id=str(brick.relative_to(ROOT)), marks=marks)


# ----------------------------------------------------------------------------- every brick


@pytest.mark.parametrize("brick", [_brick_param(b) for b in BRICKS if _runnable(b)])
def test_brick_code_runs_and_its_checks_hold(brick, outcomes):
    if missing(needs(brick)):
        pytest.skip("needs " + ", ".join(missing(needs(brick))))
    results = outcomes(brick)
    failed = [o for o in results if o["status"] not in ("ok", "compiled")]
    assert not failed, "\n\n".join(f"{brick.name}:{o['line']} ({o['kind']}) {o['status']}:\n{o['detail']}"
                                   for o in failed)
    pieces = parse(brick.read_text(encoding="utf-8"), brick.name)
    assert [(o["line"], o["kind"]) for o in results] == [(p.line, p.kind) for p in pieces]


def test_bricks_are_well_formed():
    """Every note is one the harness or the prompt builder reads, every fenced block is a python block
    the harness runs (or is marked no-run with a reason), and no note reaches the model."""
    stack = plugins.get_stack("servicex_awkward")
    problems, blocks = [], 0
    for brick in BRICKS:
        text = brick.read_text(encoding="utf-8")
        try:
            pieces = parse(text, brick.name)
        except BrickError as err:
            problems.append(str(err))
            continue
        fences = len(re.findall(r"^```", text, re.M))
        parsed = [p for p in pieces if p.kind in ("block", "no-run-block")]
        assert fences == 2 * len(parsed), f"{brick.name}: {fences} fences, {len(parsed)} blocks parsed"
        blocks += len(parsed)
        shown = prompt.strip_notes(text)
        if "<!--" in shown or "-->" in shown:
            problems.append(f"{brick.name}: a note that is not on lines of its own would reach the model")
        for p in parsed:
            if p.kind == "no-run-block" and p.language == "python":
                compile(p.code, f"{brick.name}:{p.line}", "exec")
    assert not problems, problems
    assert blocks >= 5  # the ServiceX, PHYSLITE and b-tagging blocks at least
    assert "<!--" not in prompt.hint_brick("xaod_btagging", stack)


# ----------------------------------------------------------------------------- the harness itself


_BROKEN = {
    "fragment.md": """
        ## A block that uses a name nothing defines
        ```python
        total = undefined_name + 1
        ```
        <!-- check: assert True -->
        ```python
        after = 1
        ```
        """,
    "wrong_claim.md": """
        ## A check that the library contradicts
        <!-- given: import awkward as ak -->
        - `ak.combinations(x, 3)` has fields a, b, c.
        <!-- check: assert ak.combinations(ak.Array([[1, 2, 3]]), 3).fields == ["a", "b", "c"] -->
        """,
    "misspelt.md": """
        ## A misspelt xAOD method: only logged by func_adl
        ```python
        from func_adl_servicex_xaodr25 import FuncADLQueryPHYSLITE

        query = (FuncADLQueryPHYSLITE()
            .Select(lambda e: {"jets": e.Jets()})
            .Select(lambda c: {"jet_pt": c.jets.Select(lambda j: j.ptt() / 1000.0)}))
        ```
        """,
    "inner_collection.md": """
        ## A collection called in an inner lambda: the PHYS default, only logged
        ```python
        from func_adl_servicex_xaodr25 import FuncADLQueryPHYSLITE

        query = FuncADLQueryPHYSLITE().Select(lambda e: {"n": e.Muons().Select(lambda m: e.Jets().Count())})
        ```
        """,
    "marked.md": """
        ## A marked fragment is only compiled
        <!-- no-run: a fragment of a longer script -->
        ```python
        spec = make_spec(q)
        ```
        """,
}


def test_harness_fails_on_broken_bricks(sample, tmp_path):
    bricks = []
    for name, text in _BROKEN.items():
        (tmp_path / name).write_text(textwrap.dedent(text).lstrip())
        bricks.append(tmp_path / name)
    if missing({"xaod"}):
        bricks = [b for b in bricks if b.name not in ("misspelt.md", "inner_collection.md")]
    got = {Path(k).name: v for k, v in run_harness(bricks, sample, tmp_path).items()}

    fragment = got["fragment.md"]
    assert [o["status"] for o in fragment] == ["failed", "not run", "not run"]
    assert "NameError" in fragment[0]["detail"] and "undefined_name" in fragment[0]["detail"]
    wrong = got["wrong_claim.md"]
    assert [o["status"] for o in wrong] == ["ok", "failed"] and "AssertionError" in wrong[1]["detail"]
    assert got["marked.md"] == [{"line": 3, "kind": "no-run-block", "status": "compiled",
                                 "detail": "a fragment of a longer script", "seconds": 0.0}]
    if "misspelt.md" in got:
        [misspelt] = got["misspelt.md"]
        assert misspelt["status"] == "failed" and "Method ptt not found" in misspelt["detail"], misspelt
        [inner] = got["inner_collection.md"]
        assert inner["status"] == "failed" and "default calibration configuration" in inner["detail"], inner


@pytest.mark.parametrize("text, message", [
    ("<!-- no-run: -->\n```python\nx = 1\n```\n", "needs a reason"),
    ("<!-- chek: assert 1 -->\n", "unknown note"),
    ("```cpp\nint x;\n```\n", "only python blocks are run"),
    ("<!-- no-run: later -->\n- prose\n```python\nx = 1\n```\n", "directly before its block"),
    ("<!-- check: assert 1\n", "not closed"),
    ("<!-- check: assert 1 --> trailing\n", "text after -->"),
], ids=["no-run without reason", "unknown note", "unmarked cpp block", "no-run away from its block",
        "unclosed note", "text after a note"])
def test_malformed_bricks_are_refused(text, message):
    with pytest.raises(BrickError, match=message):
        parse(text)


# ----------------------------------------------------------------------------- which bricks a question gets


def _physlite() -> Dataset:
    return Dataset(name="ttbar", title="ttbar", location="mc23_13p6TeV:mc23_13p6TeV.601237.x", format="physlite",
                   experiment="ATLAS")


BTAG_QUESTIONS = [
    registry()["adl-6"].text,
    "Plot the number of b-tagged jets per event",
    "Plot the pT of b-jets",
    "plot the leading bjet pt",
    "Plot the GN2 discriminant of jets",
    "Plot the jet pT at the FixedCutBEff_70 operating point",
    "Plot the DL1dv01 weight of the leading jet",
    "Plot the pT of jets passing flavour tagging",
]
OTHER_QUESTIONS = [q.text for qid, q in registry().items() if qid != "adl-6"] + [
    "Plot the pT of subjets", "Plot the number of jets in bins of eta", "Plot the MET of events with a tau jet",
]


@pytest.mark.parametrize("stack_name", ["servicex_awkward", "rdataframe"])
def test_btagging_brick_only_for_btagging_questions(stack_name):
    stack = plugins.get_stack(stack_name)
    ds = _physlite()
    assert "xaod_btagging" in stack.bricks_for(ds)  # the stack still lists it for PHYSLITE
    for question in BTAG_QUESTIONS:
        assert "xaod_btagging" in prompt.chosen_bricks(stack, ds, question), question
        assert "BTaggingSelectionTool" in prompt.first_prompt(stack, ds, question).text
    for question in OTHER_QUESTIONS:
        assert "xaod_btagging" not in prompt.chosen_bricks(stack, ds, question), question
        text = prompt.first_prompt(stack, ds, question).text
        assert "BTaggingSelectionTool" not in text and "FuncADLQueryPHYSLITE" in text
    # without a question (the old call) every brick is there, as before
    assert "BTaggingSelectionTool" in prompt.system_message(stack, ds)


def test_fix_prompt_keeps_the_first_prompts_bricks():
    stack, ds = plugins.get_stack("servicex_awkward"), _physlite()
    for question in (registry()["adl-6"].text, registry()["adl-1"].text):
        first = prompt.first_prompt(stack, ds, question)
        fix = prompt.fix_prompt(stack, ds, question, "print(1)", ["no plot"], "", "Traceback ...", [])
        assert fix.messages[0] == first.messages[0]


def test_no_prompt_carries_a_note(sample):
    from vibeplot.datasets import embedded

    for name, stack in plugins.stacks().items():
        for ds in (embedded.dataset(), _physlite()):
            if stack.formats and ds.format not in stack.formats:
                continue
            for question in (registry()["adl-1"].text, registry()["adl-6"].text):
                for message in prompt.first_prompt(stack, ds, question).messages:
                    assert "<!--" not in message["content"] and "-->" not in message["content"], (name, ds.format)
