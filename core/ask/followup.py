"""Follow-up runs (``vibeplot ask --continue``) and re-runs without the model (``vibeplot rerun``).

A follow-up is a new run whose question carries the parent run's question, its final script and
a short note of what that produced (:func:`with_parent`); ``run.json`` records ``parent_run``.

A re-run runs a run's final script again in a new run directory (``rerun_of``), through the
stack's runner and sandbox like ``ask`` (a ServiceX stack starts its local backend), optionally
on another dataset or more files.  A script names its input in one marked place, which every
stack's prompt asks for and every reference follows: the module-level assignment
``INPUT_FILE = "..."`` (the dataset's location; a rucio DID without ``rucio://``), and in
ServiceX scripts the ``NFiles=1`` of each ``Sample(...)`` (a policy makes it a literal).
:func:`substitute` replaces exactly those literals, found with ``ast``; when the marked place is
missing, or is not a plain literal, or the old location also appears elsewhere in the script,
it refuses (a :class:`~vibeplot.core.errors.ConfigError`, exit 2) instead of guessing.

>>> print(substitute('import uproot\\nINPUT_FILE = "/a.root"\\nf = uproot.open(INPUT_FILE)\\n', location="/b.root"), end="")
import uproot
INPUT_FILE = '/b.root'
f = uproot.open(INPUT_FILE)
>>> print(substitute('s = Sample(Name="x", Dataset=d, NFiles=1, Query=q)', nfiles=5))
s = Sample(Name="x", Dataset=d, NFiles=5, Query=q)
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from vibeplot.core.errors import ConfigError

#: the module-level constant a script reads its dataset from
INPUT_NAME = "INPUT_FILE"
#: the ``Sample(...)`` keyword that says how many files ServiceX reads
NFILES_KEYWORD = "NFiles"
#: most characters of the parent's script quoted in a follow-up prompt
MAX_CODE_CHARS = 20_000


# -- the parent run ------------------------------------------------------------------------------
def final_script(run_dir: Path, manifest: dict) -> tuple[int, str]:
    """The attempt number and code of a run's final script: the one that made the plot, else the
    last one written.  A ConfigError when the run has none (the model declined or failed)."""
    attempts = [a for a in manifest.get("attempts") or [] if isinstance(a, dict) and isinstance(a.get("n"), int)]
    plotted = [a for a in attempts if a.get("status") == "plot"]
    for attempt in plotted[-1:] or list(reversed(attempts)):
        path = Path(run_dir) / f"attempt-{attempt['n']}" / "script.py"
        if path.is_file():
            return attempt["n"], path.read_text(encoding="utf-8", errors="replace")
    raise ConfigError(f"{run_dir} has no final script (outcome {manifest.get('outcome')}: "
                      f"{manifest.get('message') or 'no attempt wrote one'})")


def latest_run(out: Path) -> Path:
    """The newest run directory under ``out`` (``ask --continue`` without RUN_DIR)."""
    from vibeplot.core.ask.history import find_runs

    found = find_runs(out)
    if not found:
        raise ConfigError(f"no run under {out} to continue", hint="give the run directory: ask --continue RUN_DIR ...")
    return Path(found[0]["path"])


def split_parent(words: tuple[str, ...], out: Path) -> tuple[tuple[str, ...], Path]:
    """``ask --continue [RUN_DIR] QUESTION...``: the question's words and the run continued.  The first
    word is RUN_DIR when it is a run directory (a folder with ``run.json``) or the exact name of one
    under ``out`` and more words follow; otherwise the latest run under ``out`` is continued."""
    if len(words) == 1 and (Path(words[0]).expanduser() / "run.json").is_file():
        raise ConfigError(f"no question after the run to continue ({words[0]})",
                          hint='say what to change: vibeplot ask --continue RUN_DIR "now with log y"')
    if len(words) > 1:
        first = Path(words[0]).expanduser()
        for candidate in (first, Path(out) / words[0]):
            if (candidate / "run.json").is_file():
                return words[1:], candidate
        if "/" in words[0] and first.is_dir():  # meant as a run directory
            raise ConfigError(f"{words[0]} is not a vibeplot run directory (no run.json)")
    return words, latest_run(out)


def parent_dataset(manifest: dict) -> str | list[str] | None:
    """How to name the parent run's dataset again (``--dataset``): its location when it was given as
    a file or URL, else its name (a catalog dataset, notes and all); a list for a run over several."""
    several = manifest.get("datasets")
    if isinstance(several, list) and len(several) > 1:
        names = [_dataset_arg(ds) for ds in several]
        return names if all(names) else None
    return _dataset_arg(manifest.get("dataset"))


def _dataset_arg(ds) -> str | None:
    if not isinstance(ds, dict):
        return None
    meta = ds.get("metadata") or {}
    if meta.get("given_as_path") or meta.get("given_as_url"):
        return ds.get("location")
    return ds.get("name") or ds.get("location")


def _histograms(run_dir: Path, png: str) -> list[str]:
    """One line per histogram drawn in ``png`` (from the sidecar vibeplot wrote)."""
    try:
        record = json.loads((run_dir / f"{png}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    lines = []
    for axes in record.get("axes") or []:
        for h in axes.get("histograms") or []:
            edges, values = h.get("edges") or [], h.get("values") or []
            if len(edges) < 2:
                continue
            scale = f", y {axes['yscale']}" if axes.get("yscale") not in (None, "linear") else ""
            lines.append(f"{len(values)} bins from {edges[0]:g} to {edges[-1]:g}, sum {sum(values):g}"
                         f", x label {axes.get('xlabel')!r}{scale}")
    return lines


def produced_note(run_dir: Path, manifest: dict) -> str:
    """A short note of what a run produced: outcome, plots and their histograms, verdict."""
    lines = [f"- Outcome: {manifest.get('outcome')} ({manifest.get('message') or ''})".replace(" ()", "")]
    for png in manifest.get("plots") or []:
        hists = _histograms(Path(run_dir), png)
        lines.append(f"- `{png}`" + (": " + "; ".join(hists) if hists else ""))
    verdict = manifest.get("verdict") or {}
    if verdict.get("status"):
        diagnosis = "; ".join(verdict.get("diagnosis") or [])
        lines.append(f"- Checked against the reference: {verdict['status']}" + (f" ({diagnosis})" if diagnosis else ""))
    return "\n".join(lines)


def with_parent(question: str, parent: Path) -> str:
    """The question of a follow-up run: the new request, then the parent's question, final script
    and what it produced."""
    from vibeplot.core.ask.history import read_run

    manifest = read_run(parent)
    parts = [question.strip(), "",
             "This follows up an earlier request: start from its script, change what is asked now, keep the rest.",
             "", "### Earlier request", str(manifest.get("question") or "").strip()]
    try:
        _, code = final_script(parent, manifest)
    except ConfigError:
        code = None
    if code is not None:
        if len(code) > MAX_CODE_CHARS:
            code = code[:MAX_CODE_CHARS] + "\n# ... (cut)"
        parts += ["", "### Its final script", f"```python\n{code.rstrip()}\n```"]
    parts += ["", "### What it produced", produced_note(parent, manifest)]
    return "\n".join(parts)


# -- the marked place ----------------------------------------------------------------------------
def _input_assignment(tree: ast.Module) -> ast.Constant:
    found = [node for node in tree.body
             if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == INPUT_NAME for t in node.targets))
             or (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == INPUT_NAME)]
    if not found:
        raise ConfigError(f"the script names no dataset in the marked place (a top-level `{INPUT_NAME} = \"...\"`), "
                          "so vibeplot cannot change its input",
                          hint="ask again with --dataset (vibeplot ask --continue RUN --dataset ...)")
    if len(found) > 1:
        raise ConfigError(f"the script assigns {INPUT_NAME} {len(found)} times (lines "
                          f"{', '.join(str(n.lineno) for n in found)}); vibeplot will not guess which one counts")
    value = found[0].value
    if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
        raise ConfigError(f"{INPUT_NAME} on line {found[0].lineno} is not a plain string "
                          f"({ast.unparse(value) if value is not None else 'no value'}); vibeplot will not guess the input")
    return value


def _samples(tree: ast.Module) -> list[ast.Call]:
    def name(func) -> str:
        return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""

    return [node for node in ast.walk(tree) if isinstance(node, ast.Call) and name(node.func) == "Sample"]


def current_input(code: str) -> str | None:
    """The dataset the script reads (its ``INPUT_FILE``), or None when it has no plain one."""
    try:
        return _input_assignment(ast.parse(code)).value
    except (SyntaxError, ConfigError):
        return None


def substitute(code: str, *, location: str | None = None, nfiles: int | None = None) -> str:
    """``code`` with its ``INPUT_FILE`` literal set to ``location`` and every ``Sample``'s ``NFiles``
    literal set to ``nfiles`` (each when given); a ConfigError when the marked place is not there."""
    try:
        tree = ast.parse(code)
    except SyntaxError as err:
        raise ConfigError(f"the script does not parse: {err}") from None
    edits: list[tuple[ast.AST, str]] = []
    if location is not None:
        node = _input_assignment(tree)
        old = node.value
        elsewhere = [n.lineno for n in ast.walk(tree)
                     if isinstance(n, ast.Constant) and isinstance(n.value, str) and n is not node and old and old in n.value]
        if elsewhere:
            raise ConfigError(f"the script names its dataset {old!r} outside {INPUT_NAME} too (line "
                              f"{', '.join(map(str, sorted(set(elsewhere))))}); vibeplot will not guess which uses to change")
        edits.append((node, repr(location)))  # a Python literal of exactly this string
    if nfiles is not None:
        samples = _samples(tree)
        if not samples:
            raise ConfigError("--nfiles applies to ServiceX scripts, and this one makes no Sample(...)")
        for call in samples:
            value = next((k.value for k in call.keywords if k.arg == NFILES_KEYWORD), None)
            if not (isinstance(value, ast.Constant) and isinstance(value.value, int)):
                raise ConfigError(f"a Sample on line {call.lineno} has no plain {NFILES_KEYWORD}=<number>; "
                                  "vibeplot will not guess how many files it reads")
            edits.append((value, str(nfiles)))
    return _apply(code, edits)


def _apply(code: str, edits: list[tuple[ast.AST, str]]) -> str:
    """Replace each node's source text (ast offsets are UTF-8 byte columns)."""
    data = code.encode("utf-8")
    starts = [0]
    for line in data.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    spans = sorted(((starts[n.lineno - 1] + n.col_offset, starts[n.end_lineno - 1] + n.end_col_offset, text)
                    for n, text in edits), reverse=True)
    for begin, end, text in spans:
        data = data[:begin] + text.encode("utf-8") + data[end:]
    return data.decode("utf-8")


def _is_did(location: str) -> bool:
    from vibeplot.core.servicex.runner import is_rucio
    from vibeplot.core.resolver import Dataset

    return is_rucio(Dataset("x", "x", location, ""))


# -- re-run --------------------------------------------------------------------------------------
@dataclass
class RerunOptions:
    run: Path
    #: another dataset (a local file, URL or phrase, as ``ask --dataset``); None: the run's own
    dataset: str | None = None
    #: files ServiceX reads per Sample; None: as the script says
    nfiles: int | None = None
    out: Path | None = None
    limits: object = None
    choose: Callable | None = None


def rerun(opts: RerunOptions, status: Callable[[str], None] = lambda message: None):
    """Run ``opts.run``'s final script again in a new run directory; returns an ``AskResult``."""
    from vibeplot.core import __version__, config, plugins
    from vibeplot.core.ask import loop
    from vibeplot.core.ask.history import read_run
    from vibeplot.core.ask.rundir import RunRecord
    from vibeplot.core.sandbox import isolation
    from vibeplot.core.sandbox import run as sandbox

    parent = Path(opts.run)
    manifest = read_run(parent)
    n, code = final_script(parent, manifest)
    stack = plugins.get_stack(manifest.get("stack"))
    question = str(manifest.get("question") or "")
    limits = opts.limits or sandbox.Limits()
    if opts.dataset is not None and isinstance(parent_dataset(manifest), list):
        raise ConfigError(f"{parent.name} reads several datasets; --dataset replaces the one INPUT_FILE of a script",
                          hint=f"ask for a new script: vibeplot ask --continue {parent} --dataset ... \"same plot\"")
    given = opts.dataset or parent_dataset(manifest)
    datasets, resolutions = loop.choose_datasets(loop.AskOptions(question=question, stack=stack.name, dataset=given,
                                                                 choose=opts.choose), stack)
    ds, resolution = datasets[0], resolutions[0]
    if opts.dataset is not None:
        location = ds.location.removeprefix("rucio://")
        old = current_input(code)
        if old is not None and _is_did(old) != _is_did(location):
            kinds = ("a rucio dataset", "a file") if _is_did(old) else ("a file", "a rucio dataset")
            raise ConfigError(f"the script reads {kinds[0]}, and {ds.name} is {kinds[1]}: it names them differently",
                              hint=f"ask for a new script: vibeplot ask --continue {parent} --dataset ... \"same plot\"")
        code = substitute(code, location=location, nfiles=opts.nfiles)
    elif opts.nfiles is not None:
        code = substitute(code, nfiles=opts.nfiles)
    isolated = isolation.choose(isolation.mode(limits.isolation))
    if not isolated.available:
        isolation.warning_once(isolated.detail)
    for d in datasets:
        if d.prepare:
            status(f"preparing dataset {d.name}")
            d.prepare()
    record = RunRecord(opts.out or Path(config.DEFAULT_OUT), question, {
        "vibeplot_version": __version__,
        "question_id": manifest.get("question_id"),
        "stack": stack.name,
        "stack_source": stack.source,
        "question_match": manifest.get("question_match"),
        "model": manifest.get("model"),  # who wrote the script; no model call is made
        "rerun_of": str(parent.resolve()),
        "rerun_script": f"attempt-{n}/script.py",
        "nfiles": opts.nfiles,
        "dataset": ds.as_dict(),
        "dataset_resolution": resolution,
        "datasets": [d.as_dict() for d in datasets],  # as ask records them (the first is "dataset")
        "dataset_resolutions": resolutions,
        "versions": plugins.installed_versions(["vibeplot", *stack.packages]),
        "max_iterations": 1,
        "limits": vars(limits),
        "isolation": None,
    })
    try:
        record.write(1, "script.py", code)
        workdir = record.attempt_dir(1)
        status("running the script")
        with sandbox.granting(loop.grant_for(stack, datasets)):
            result = (stack.runner or loop._default_runner)(workdir / "script.py", workdir=workdir, limits=limits,
                                                            dataset=ds)
        record.manifest["isolation"] = result.isolation
        attempt = {"n": 1, "run": loop.run_record(result)}
        if result.ok:
            record.add_attempt({**attempt, "status": "plot"})
            message = f"{len(result.new_pngs)} plot(s), re-run of {parent.name}"
            record.finish("plot", message, result.new_pngs)
            if manifest.get("question_id"):
                status("validating the plot against the reference")
                loop.add_verdict(record.path, record.manifest)
                record.save()
            return loop.AskResult("plot", message, record.path,
                                  [record.path / p for p in record.manifest["plots"]], record.manifest)
        record.add_attempt({**attempt, "status": "failed", "failure": result.describe()})
        message = f"the script failed: {result.describe()}"
        record.finish("no-plot", message)
        return loop.AskResult("no-plot", message, record.path, [], record.manifest)
    except KeyboardInterrupt as err:
        record.finish("interrupted", getattr(err, "message", "interrupted by the user"))
        raise
    except BaseException as err:
        if record.manifest.get("outcome") == "running":
            record.finish("error", f"vibeplot failed: {type(err).__name__}: {err}")
        raise

