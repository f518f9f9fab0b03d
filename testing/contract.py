"""The stack contract: what every stack must do, checked from the stack's own tests.

:func:`check_stack` checks a registered stack, in this order:

1. **registered and well formed**: the stack is registered (its entry point loads) under
   ``name``, with a description, a prompt, callable policies and explainers, and folders that exist;
2. **prompt**: the stack reads the dataset (``formats``, ``check_dataset``), every hint brick it
   names exists, and the first prompt renders with the dataset section in it;
3. **references**: every ``references/*.py`` is named after a benchmark question
   (``adl-1`` -> ``adl1.py``), and the stack's static policies accept every one of them;
4. **reference runs**: each selected question runs through vibeplot's real ask loop with
   ``--model reference`` (``vibeplot.core.ask.loop.ask``, sandbox included) on the question's
   dataset (the embedded sample) or the one given, makes a plot in one attempt, and the plot
   validates ``correct`` (on a dataset the validator cannot read, the verdict is reported only);
5. **explainers**: each explainer returns a list of strings, without raising, for failures it is
   not written for (empty, timed out, out of memory, an unrelated traceback), and advice for every
   failure it is written for: the stderr texts (or :class:`~vibeplot.core.stack.Failure` objects)
   in its ``examples`` attribute, or given with ``failures=``.  An explainer with no example
   failures fails the check: it could not be tested.

A stack's own test::

    from vibeplot.testing import check_stack

    def test_my_stack_keeps_the_contract(vibeplot_cache):     # fixture: an isolated cache dir
        check_stack("my_stack", questions="adl-1,adl-2")

    # an explainer says which failures it is written for (stderr texts, or Failure objects):
    advise.examples = ["KeyInFileError: not found: 'MET_et'"]

``check_stack`` raises AssertionError with the whole report when a check fails, and returns
the :class:`ContractReport` otherwise.  ``questions=[]`` skips the runs (static checks only,
well under a second); the runs take a few seconds per question.

>>> print(ContractReport("toy", "adl-sample", [
...     Check("registered", True, "vibeplot-toy-stack 0.0.1"),
...     Check("policies accept the references", False, "adl1.py: Do not call plt.show()"),
...     Check("reference run adl-1", False, "no-plot: no plot after 1 attempt(s)\\nthe script failed: exit code 1")]))
stack contract of 'toy' on adl-sample: 2 of 3 checks failed
  ok    registered: vibeplot-toy-stack 0.0.1
  FAIL  policies accept the references: adl1.py: Do not call plt.show()
  FAIL  reference run adl-1:
          no-plot: no plot after 1 attempt(s)
          the script failed: exit code 1
"""

from __future__ import annotations

import shutil
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence, Union

from vibeplot.core.stack import Failure

#: a failure an explainer is written for: a stderr text, or a whole Failure
Sample = Union[str, Failure]

#: failures no explainer is written for: an explainer must survive them (and may stay silent)
NEUTRAL_FAILURES = {
    "an empty failure": Failure(code="", stdout="", stderr="", returncode=1),
    "a timed-out run": Failure(code="", stdout="", stderr="", returncode=None, timed_out=True),
    "a run out of memory": Failure(code="", stdout="", stderr="", returncode=-9, memory_exceeded=True),
    "an unrelated traceback": Failure(
        code="print(1 / 0)\n", stdout="", returncode=1,
        stderr='Traceback (most recent call last):\n  File "script.py", line 1, in <module>\n'
               "ZeroDivisionError: division by zero\n"),
}


@dataclass
class Check:
    """One checked promise: its name, whether it holds, and what was found."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class ContractReport:
    stack: str
    dataset: str
    checks: list[Check] = field(default_factory=list)
    #: the reference runs' directories (kept when a check failed; None when removed or no runs)
    runs: Path | None = None

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def __str__(self) -> str:
        failed = len(self.failed)
        verdict = "passed" if not failed else f"{failed} of {len(self.checks)} checks failed"
        lines = [f"stack contract of {self.stack!r} on {self.dataset}: {verdict}"]
        for c in self.checks:
            head = f"  {'ok  ' if c.ok else 'FAIL'}  {c.name}"
            detail = c.detail.strip().splitlines()
            if len(detail) == 1:
                lines.append(f"{head}: {detail[0]}")
            else:
                lines.append(head + (":" if detail else ""))
                lines += [textwrap.indent(line, " " * 10) for line in detail]
        if self.runs is not None:
            lines.append(f"  run directories: {self.runs}")
        return "\n".join(lines)


def check_stack(name: str, questions: str | Iterable[str] | None = None, *, dataset: str | None = None,
                failures: Mapping[str | Callable, Sequence[Sample]] | Sequence[Sample] | None = None,
                out: Path | str | None = None, isolation: str | None = None, timeout: float = 300.0,
                raise_on_failure: bool = True) -> ContractReport:
    """Check the stack registered as ``name`` against the contract (see the module docstring).

    ``questions``: which reference solutions run through the ask loop: None for every question
    the stack has a reference for, a spec like ``"adl-1,extra"`` (ids and sets, as
    ``vibeplot compare --questions``), a list of ids, or ``[]`` for none.  A selected question
    without a reference fails.  The static checks always cover every reference.

    ``dataset``: a local file or a dataset phrase (as ``--dataset``); None: each question's own
    dataset (the embedded sample).  ``failures``: example failures for the explainers, either one
    list shared by all (each explainer must advise on at least one, and the stack on each) or a
    mapping from explainer (the function or its ``__name__``) to the failures it is written for
    (added to its ``examples``; it must advise on every one).  ``out``: where the run directories
    go (default: a temporary directory, removed when every check passed).  ``isolation``:
    ``auto``, ``required`` or ``none`` (default: the setting).  ``timeout``: seconds per script.
    """
    from vibeplot.core import plugins
    from vibeplot.core.errors import VibeplotError

    report = ContractReport(name, dataset or "each question's dataset")
    checks = report.checks
    try:
        stack = plugins.get_stack(name)
    except VibeplotError as err:
        checks.append(Check("registered", False, _error(err)))
        return _finish(report, raise_on_failure)
    checks.append(Check("registered", True, stack.source))
    checks += _well_formed(stack)

    ds = _dataset(stack, dataset, checks)
    if ds is not None:
        report.dataset = ds.name if dataset else f"{ds.name} (each question's dataset)"
        checks += _prompt(stack, ds)
        refs = _reference_files(stack, ds, checks)
        checks += _policies(stack, ds, refs)
        selected = _select(questions, refs, checks)
        if selected:
            runs = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix=f"vibeplot-contract-{name}-"))
            checks += [_run(stack, qid, dataset, runs, isolation, timeout) for qid in selected]
            if out is None and report.ok:
                shutil.rmtree(runs, ignore_errors=True)
            else:
                report.runs = runs
    checks += _explainers(stack, failures)
    return _finish(report, raise_on_failure)


def _finish(report: ContractReport, raise_on_failure: bool) -> ContractReport:
    if raise_on_failure and not report.ok:
        raise AssertionError(str(report))
    return report


def _error(err: Exception) -> str:
    hint = getattr(err, "hint", None)
    return f"{err}" + (f" ({hint})" if hint else "")


def _label(fn: Callable) -> str:
    return getattr(fn, "__name__", None) or repr(fn)


# -- 1. registered and well formed ------------------------------------------------------------


def _well_formed(stack) -> list[Check]:
    problems = []
    for attr in ("description", "prompt_template"):
        if not isinstance(getattr(stack, attr), str) or not getattr(stack, attr).strip():
            problems.append(f"{attr} is empty")
    for attr in ("policies", "explainers"):
        problems += [f"{attr}: {item!r} is not callable" for item in getattr(stack, attr) if not callable(item)]
    for attr in ("references_dir", "local_hints_dir"):
        folder = getattr(stack, attr)
        if folder is not None and not Path(folder).is_dir():
            problems.append(f"{attr} {folder} is not a directory")
    if not all(isinstance(f, str) for f in stack.formats or ()):
        problems.append(f"formats must be strings: {stack.formats!r}")
    if stack.runner is not None and not callable(stack.runner):
        problems.append(f"runner {stack.runner!r} is not callable")
    return [Check("well formed", not problems, "; ".join(problems) or
                  f"policies: {len(stack.policies)}, explainers: {len(stack.explainers)}, "
                  f"formats: {', '.join(stack.formats) or 'any'}")]


# -- 2. dataset and prompt --------------------------------------------------------------------


def _dataset(stack, dataset: str | None, checks: list[Check]):
    from vibeplot.core.ask.loop import AskOptions, choose_dataset
    from vibeplot.core.errors import VibeplotError

    warnings: list[str] = []
    try:  # no dataset: the default one, as for a question that names none
        ds, _ = choose_dataset(AskOptions(question="", stack=stack.name, dataset=dataset), stack,
                               warn=warnings.append)
    except VibeplotError as err:
        hint = "" if dataset else "; pass dataset= (a file or phrase) the stack reads"
        checks.append(Check("reads the dataset", False, _error(err) + hint))
        return None
    checks.append(Check("reads the dataset", True, f"{ds.name} ({ds.format})" +
                        (f"; {' '.join(warnings)}" if warnings else "")))
    return ds


def _prompt(stack, ds) -> list[Check]:
    from vibeplot.core.ask import prompt

    checks = []
    names = list(dict.fromkeys([*stack.bricks_for(ds), *stack.hint_bricks,
                                *(b for bricks in stack.format_bricks.values() for b in bricks)]))
    missing = []
    for brick in names:
        try:
            prompt.hint_brick(brick, stack)
        except Exception as err:
            missing.append(_error(err))
    checks.append(Check("hint bricks exist", not missing, "; ".join(missing) or ", ".join(names) or "none"))
    if missing:
        return checks  # the prompt cannot render; said once
    try:
        first = prompt.first_prompt(stack, ds, "Plot the missing transverse energy of all events.")
    except Exception as err:
        return [*checks, Check("prompt renders", False, f"{type(err).__name__}: {_error(err)}")]
    user = first.messages[-1]["content"]
    problems = []
    if ds.location not in user:
        problems.append(f"the dataset section (location {ds.location}) is not in the prompt")
    if not first.messages[0]["content"].startswith(stack.prompt_template.strip()[:200]):
        problems.append("the system message does not start with the stack's prompt")
    checks.append(Check("prompt renders", not problems, "; ".join(problems) or
                        f"{len(first.text.split())} words for {ds.name}"))
    return checks


# -- 3. references and policies ---------------------------------------------------------------


def _reference_files(stack, ds, checks: list[Check]) -> dict[str, Path]:
    """question id -> reference file, for ``ds``'s variant; files named after no question fail."""
    from vibeplot.core.questions import reference_file, registry

    if stack.references_dir is None:
        checks.append(Check("reference solutions", False, "the stack has no references_dir: add "
                            "references/<question id without dashes>.py (e.g. adl1.py)"))
        return {}
    folder = Path(stack.references_dir)
    if stack.reference_variant is not None:
        folder = folder / (stack.reference_variant(ds) or "")
    by_file = {reference_file(q): q for q in registry()}
    found, orphans = {}, []
    for path in sorted(folder.glob("*.py")):
        if path.name in by_file:
            found[by_file[path.name]] = path
        elif not path.name.startswith("_"):
            orphans.append(path.name)
    if orphans:
        checks.append(Check("references are named after questions", False,
                            f"{', '.join(orphans)} in {folder} match no benchmark question (a reference "
                            "is named after the question id without dashes: adl-1 -> adl1.py; "
                            "`vibeplot questions list`)"))
    checks.append(Check("reference solutions", bool(found),
                        ", ".join(found) if found else f"none in {folder}"))
    return found


def _policies(stack, ds, refs: dict[str, Path]) -> list[Check]:
    from vibeplot.core import policies

    if not refs:
        return []
    refused = []
    for path in refs.values():
        code = path.read_text(encoding="utf-8").replace("{{dataset}}", ds.location)
        try:
            problems = policies.check(code, stack.policies)
        except Exception as err:
            problems = [f"a policy raised {type(err).__name__}: {err}"]
        refused += [f"{path.name}: {problem}" for problem in problems]
    return [Check("policies accept the references", not refused,
                  "\n".join(refused) or f"all {len(refs)} of them")]


def _select(questions, refs: dict[str, Path], checks: list[Check]) -> list[str]:
    from vibeplot.core import questions as registry

    if questions is None:
        return list(refs)
    try:
        if isinstance(questions, str):
            wanted = [q.id for q in registry.select(questions)]
        else:
            wanted = [str(q) for q in questions]
            unknown = [q for q in wanted if q not in registry.registry()]
            if unknown:
                raise KeyError(f"unknown question(s) {', '.join(unknown)} (see `vibeplot questions list`)")
    except KeyError as err:
        checks.append(Check("questions selected", False, err.args[0]))
        return []
    missing = [q for q in wanted if q not in refs]
    if missing:
        checks.append(Check("questions selected", False, f"no reference solution for {', '.join(missing)}"))
    return [q for q in wanted if q in refs]


# -- 4. reference runs through the ask loop ---------------------------------------------------


def _run(stack, qid: str, dataset: str | None, out: Path, isolation: str | None, timeout: float) -> Check:
    from vibeplot.core.ask.loop import AskOptions, ask
    from vibeplot.core.errors import VibeplotError
    from vibeplot.core.sandbox.run import Limits, tail

    name = f"reference run {qid}"
    try:
        result = ask(AskOptions(question=qid, stack=stack.name, model="reference", dataset=dataset,
                                out=out / qid, max_iterations=1, use_cache=False,
                                limits=Limits(timeout=timeout, isolation=isolation)))
    except VibeplotError as err:
        return Check(name, False, _error(err))
    manifest = result.manifest
    isolated = f"isolation {manifest.get('isolation')}"
    where = f"run directory: {result.run_dir}"
    if result.outcome != "plot":
        attempt = (manifest.get("attempts") or [{}])[-1]
        lines = [f"{result.outcome}: {result.message}"]
        if attempt.get("problems"):
            lines += [f"policy: {p}" for p in attempt["problems"]]
        if attempt.get("failure"):
            lines.append(f"the script failed: {attempt['failure']}")
            stderr = result.run_dir / "attempt-1" / "stderr.txt"
            if stderr.is_file():
                lines.append(tail(stderr.read_text(encoding="utf-8", errors="replace"), 12, 1500))
        lines.append(where)
        return Check(name, False, "\n".join(lines))
    verdict = manifest.get("verdict")
    plots = ", ".join(p.name for p in result.plots)
    if verdict is None:
        return Check(name, True, f"{plots}; not a benchmark run, not validated; {isolated}")
    if verdict["status"] == "correct":
        return Check(name, True, f"{plots}; verdict correct; {isolated}")
    diagnosis = verdict.get("diagnosis") or []
    if verdict["status"] == "unverifiable" and any(d.startswith("no truth values") for d in diagnosis):
        return Check(name, True, f"{plots}; not validated ({'; '.join(diagnosis)}); {isolated}")
    return Check(name, False, "\n".join([f"{plots}; verdict {verdict['status']}", *diagnosis, where]))


# -- 5. explainers ----------------------------------------------------------------------------


def _as_failure(sample: Sample) -> Failure:
    if isinstance(sample, Failure):
        return sample
    return Failure(code="", stdout="", stderr=str(sample), returncode=1)


def _short(sample: Sample) -> str:
    text = sample.stderr if isinstance(sample, Failure) else str(sample)
    lines = [line for line in text.strip().splitlines() if line.strip()] or ["(empty stderr)"]
    last = lines[-1].strip()
    return repr(last if len(last) <= 80 else last[:77] + "...")


def _advice(explainer, failure: Failure) -> tuple[list[str] | None, str]:
    """The explainer's advice for ``failure``, or (None, what is wrong with the answer)."""
    try:
        advice = explainer(failure)
    except Exception as err:
        return None, f"raised {type(err).__name__}: {err}"
    if not isinstance(advice, list) or not all(isinstance(a, str) and a.strip() for a in advice):
        return None, f"returned {advice!r}, not a list of advice lines"
    return advice, ""


def _explainers(stack, failures) -> list[Check]:
    shared: list[Sample] = []
    own: dict = {}
    if isinstance(failures, Mapping):
        own = dict(failures)
    elif failures is not None:
        shared = list(failures)
    known = {_label(e) for e in stack.explainers} | {getattr(e, "__qualname__", "") for e in stack.explainers}
    checks = []
    unknown = [str(k) for k in own if not callable(k) and k not in known]
    if unknown:
        checks.append(Check("explainer failures given", False,
                            f"no explainer named {', '.join(unknown)} (explainers: {', '.join(sorted(known))})"))
    for explainer in stack.explainers:
        label = _label(explainer)
        name = f"explainer {label}"
        problems = []
        for what, failure in NEUTRAL_FAILURES.items():
            advice, wrong = _advice(explainer, failure)
            if advice is None:
                problems.append(f"on {what}: {wrong}")
        mine = list(getattr(explainer, "examples", None) or ())
        mine += [s for key, samples in own.items()
                 if key is explainer or key in (label, getattr(explainer, "__qualname__", None))
                 for s in samples]
        advised = 0
        for sample in mine:
            advice, wrong = _advice(explainer, _as_failure(sample))
            if advice is None:
                problems.append(f"on {_short(sample)}: {wrong}")
            elif not advice:
                problems.append(f"no advice for {_short(sample)}, a failure it is written for")
            else:
                advised += 1
        shared_advised = 0
        for sample in shared:
            advice, wrong = _advice(explainer, _as_failure(sample))
            if advice is None:
                problems.append(f"on {_short(sample)}: {wrong}")
            elif advice:
                shared_advised += 1
        if not mine and not shared:
            problems.append(f"no example failures to check it with: set {label}.examples = [stderr text, ...] "
                            "or pass failures= to check_stack")
        elif not mine and not shared_advised:
            problems.append(f"no advice for any of the {len(shared)} failures given")
        checks.append(Check(name, not problems, "\n".join(problems) or
                            f"advice for {advised + shared_advised} example failure(s)"))
    for sample in shared:
        if _safe(stack, sample) and not stack.explain(_as_failure(sample)):
            checks.append(Check(f"advice for {_short(sample)}", False, "no explainer of the stack advises on it"))
    return checks


def _safe(stack, sample: Sample) -> bool:
    """Whether every explainer answers ``sample`` without raising (raising is reported above)."""
    return all(_advice(e, _as_failure(sample))[0] is not None for e in stack.explainers)
