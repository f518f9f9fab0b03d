"""vibeplot's bricks as tools of an MCP server (``vibeplot mcp``, the ``mcp`` extra).

A coding agent that speaks the Model Context Protocol starts ``vibeplot mcp`` and calls, over stdio:

* ``list_stacks``, ``list_questions``: what is installed, and the benchmark questions;
* ``resolve_dataset(phrase)``: the dataset a phrase means, with every scored candidate and its metadata;
* ``get_prompt(question, stack, dataset)``: the exact first prompt ``vibeplot hints show`` prints;
* ``run_code(code, stack, dataset, question)``: the script run in the sandbox exactly as ``ask`` runs an
  attempt (the stack's runner, the dataset's grant, the server's limits and isolation), recorded in a
  run directory; the result has the exit status, the output tails, the stack's advice, the histograms
  vibeplot captured, and the PNGs as image content;
* ``validate(question, run | histograms)``: the verdict against the question's truth values;
* ``ask(question, stack, model)``: the whole loop (``vibeplot ask``).

The tools are plain functions of :class:`Settings` (testable without the SDK); :func:`build_server`
wraps them as typed MCP tools (structured output from the pydantic models below).  The SDK is
imported only there.  The limits and the isolation are the server's (``vibeplot mcp --timeout
--memory-mb --isolation``): a client cannot loosen them.  Nothing here writes to stdout, the
protocol channel (the SDK also points file descriptor 1 at stderr while it serves).  No tool
returns a secret: the model server's key is read from the settings and only ``api_key_given``
is recorded, as in ``ask``.

>>> sorted(TOOLS)
['ask', 'get_prompt', 'list_questions', 'list_stacks', 'resolve_dataset', 'run_code', 'validate']
"""

import base64
import contextlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from vibeplot.core import __version__, config

#: tool name -> one line on what it does (the tools' descriptions start with it)
TOOLS = {
    "list_stacks": "The installed analysis stacks: name, description, dataset formats they read, hint bricks.",
    "list_questions": "The benchmark questions (id, wording, dataset, stacks with a reference); a run of one "
                      "can be validated.",
    "resolve_dataset": "The dataset a phrase (e.g. 'semileptonic ttbar') means: status, the chosen dataset "
                       "with its metadata, and every scored candidate.",
    "get_prompt": "The exact first prompt (system: stack instructions and hints; user: dataset, question, "
                  "reply format) a model gets for a question, as `vibeplot hints show` prints it.",
    "run_code": "Run a Python script in vibeplot's sandbox, as `ask` runs a model's script, and record it in "
                "a run directory: exit status, stdout/stderr tails, advice on the failure, the captured "
                "histograms and the PNGs (as images).",
    "validate": "Check a run's plots (or captured histograms) against a benchmark question's truth values: "
                "correct, wrong (with a diagnosis) or unverifiable.",
    "ask": "The whole loop of `vibeplot ask`: prompt a model, run its script, fix until a plot is made, "
           "validate; returns the outcome, the run directory, the verdict, the last script and the PNGs.",
}


@dataclass
class Settings:
    """What the server was started with (``vibeplot mcp`` options)."""

    #: where run directories go
    out: Path = Path(config.DEFAULT_OUT)
    #: the sandbox limits every script of this server runs under (isolation included)
    limits: Any = None
    #: where progress lines go (never stdout)
    log: Any = field(default=None, repr=False)

    def __post_init__(self):
        if self.limits is None:
            from vibeplot.core.sandbox.run import Limits

            self.limits = Limits()

    def say(self, message: str) -> None:
        print(f"vibeplot mcp: {message}", file=self.log or sys.stderr, flush=True)


# -- structured results ------------------------------------------------------------------------


class StackInfo(BaseModel):
    name: str
    source: str = Field(description="the distribution that registers the stack")
    description: str
    default: bool = Field(description="used when no stack is named")
    formats: list[str] = Field(description="dataset formats it reads (empty: any)")
    hint_bricks: list[str]
    format_bricks: dict[str, list[str]]


class QuestionInfo(BaseModel):
    id: str
    text: str
    tags: list[str]
    dataset: str = Field(description="the dataset phrase the question is registered with")
    datasets: list[str] = Field(description="the dataset phrases of a question about several samples, in order")
    meaning: str
    references: list[str] = Field(description="stacks with a curated reference solution")


class DatasetInfo(BaseModel):
    name: str
    title: str
    location: str = Field(description="local path, file URL or rucio DID")
    format: str
    tree: str | None = None
    experiment: str | None = None
    description: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict,
                                     description="run period, kind, process, cross section, aliases, ...")
    prompt_notes: str = ""


class CandidateInfo(BaseModel):
    name: str
    title: str
    score: float = Field(description="0-1; 1 only for an exact name or alias")
    exact: bool
    why: str
    metadata: dict[str, Any] = Field(default_factory=dict)


class Resolution(BaseModel):
    phrase: str
    status: Literal["resolved", "ambiguous", "unknown"]
    dataset: DatasetInfo | None = Field(None, description="the dataset chosen (status resolved)")
    why: str | None = None
    candidates: list[CandidateInfo] = Field(description="scored candidates, best first (at most 10)")


class PromptInfo(BaseModel):
    stack: str
    dataset: str = Field(description="name of the dataset the prompt is about (the first of several)")
    datasets: list[str] = Field(description="every dataset of the question, in the order the prompt lists them")
    question_id: str | None = Field(None, description="the benchmark question it asks, if any")
    sha256: str
    messages: list[dict[str, str]] = Field(description="the chat messages (role, content) sent to the model")
    text: str = Field(description="the whole prompt as one document, as `vibeplot hints show` prints it")


class VerdictInfo(BaseModel):
    status: Literal["correct", "wrong", "unverifiable"]
    diagnosis: list[str]


class RunInfo(BaseModel):
    run_dir: str = Field(description="the run directory (give it to validate)")
    ok: bool = Field(description="exit code 0 and at least one PNG")
    status: str = Field(description="'ok', 'exit code N', 'killed at the wall-clock limit', policy problems, ...")
    returncode: int | None
    timed_out: bool
    memory_exceeded: bool
    wall_seconds: float
    peak_rss_mb: float
    isolation: str = Field(description="'bubblewrap' or 'none'")
    worker: str | None = Field(None, description="'warm' (a pre-imported worker) or 'cold'")
    stack: str
    dataset: str = Field(description="the dataset the script was given (the first of several)")
    datasets: list[str]
    question_id: str | None = None
    policy_problems: list[str] = Field(description="static checks the code failed (then it was not run)")
    stdout_tail: str
    stderr_tail: str
    advice: list[str] = Field(description="the stack's explanation of the failure, for fixing the code")
    plots: list[str] = Field(description="PNG files in the run directory (also returned as images)")
    rejected: list[str] = Field(description="PNG-looking files that were refused, with why")
    histograms: list[dict[str, Any]] = Field(
        description="per PNG, the histograms vibeplot captured while it was drawn (edges, values per axes)")
    verdict: VerdictInfo | None = Field(None, description="with a benchmark question: the validation")
    warnings: list[str]


class ValidationInfo(BaseModel):
    question_id: str
    run_dir: str | None = None
    dataset: str
    status: Literal["correct", "wrong", "unverifiable"]
    diagnosis: list[str]


class AttemptInfo(BaseModel):
    n: int
    status: str = Field(description="plot, failed, policy, declined, model-error")
    detail: str = ""


class AskInfo(BaseModel):
    outcome: str = Field(description="plot, no-plot or declined")
    message: str
    run_dir: str
    stack: str
    model: str
    dataset: str
    question_id: str | None
    attempts: list[AttemptInfo]
    verdict: VerdictInfo | None
    script: str | None = Field(description="the last script that was run (or proposed)")
    plots: list[str]
    cost_usd: float | None


# -- the tools, without the SDK ----------------------------------------------------------------


def _dataset_info(ds) -> DatasetInfo:
    meta = json.loads(json.dumps(ds.metadata, default=str))
    return DatasetInfo(name=ds.name, title=ds.title, location=ds.location, format=ds.format, tree=ds.tree,
                       experiment=ds.metadata.get("experiment") or ds.experiment, description=ds.description,
                       metadata=meta, prompt_notes=ds.prompt_notes)


def list_stacks() -> list[StackInfo]:
    from vibeplot.core import plugins

    default = plugins.default_stack()
    return [StackInfo(name=name, source=st.source, description=st.description, default=name == default,
                      formats=list(st.formats or ()), hint_bricks=list(st.hint_bricks),
                      format_bricks={k: list(v) for k, v in st.format_bricks.items()})
            for name, st in sorted(plugins.stacks().items())]


def _references(question) -> list[str]:
    """The stacks with a reference solution for ``question``, in ``references/`` or one of its variant
    folders (as ``vibeplot questions list`` counts them)."""
    from vibeplot.core import plugins

    out = []
    for name, st in sorted(plugins.stacks().items()):
        if st.references_dir is None:
            continue
        folders = [st.references_dir, *(d for d in sorted(st.references_dir.iterdir())
                                        if d.is_dir() and not d.name.startswith("_"))]
        if any((folder / question.reference_name).is_file() for folder in folders):
            out.append(name)
    return out


def list_questions(spec: str = "all") -> list[QuestionInfo]:
    from vibeplot.core.errors import ConfigError
    from vibeplot.core.questions import select

    try:
        chosen = select(spec)
    except KeyError as err:
        raise ConfigError(err.args[0]) from None
    return [QuestionInfo(id=q.id, text=q.text, tags=list(q.tags), dataset=q.dataset,
                         datasets=list(q.datasets), meaning=q.meaning,
                         references=_references(q)) for q in chosen]


def _context(stack: str | None):
    from vibeplot.core import plugins
    from vibeplot.core.resolver import ResolveContext

    if not stack:
        return ResolveContext()
    st = plugins.get_stack(stack)
    return ResolveContext(stack=st.name, formats=tuple(st.formats or ()))


def resolve_dataset(phrase: str, stack: str | None = None) -> Resolution:
    from vibeplot.core.errors import ConfigError, DatasetError
    from vibeplot.core.resolver import AmbiguousDataset, candidates, resolve

    if not phrase.strip():
        raise ConfigError("the dataset phrase is empty")
    context = _context(stack)
    found = candidates(phrase, context)[:10]
    listed = [CandidateInfo(name=c.dataset.name, title=c.dataset.title, score=round(c.score, 4), exact=c.exact,
                            why=c.why, metadata=json.loads(json.dumps(c.dataset.metadata, default=str)))
              for c in found]
    try:
        chosen = resolve(phrase, context)
    except AmbiguousDataset:
        return Resolution(phrase=phrase, status="ambiguous", candidates=listed)
    except DatasetError as err:
        return Resolution(phrase=phrase, status="unknown", why=str(err), candidates=listed)
    return Resolution(phrase=phrase, status="resolved", dataset=_dataset_info(chosen.dataset), why=chosen.why,
                      candidates=listed)


def _reading(question: str | None, required: bool = False):
    """What ``question`` says (a benchmark question by id or wording, a dataset phrase)."""
    from vibeplot.core.ask.loop import Reading, read_question
    from vibeplot.core.errors import ConfigError

    if not question or not question.strip():
        if required:
            raise ConfigError("the question is empty: say what to plot")
        return Reading(None, None, None)
    return read_question(question)


def _given(dataset: str | list[str] | None):
    """A tool's ``dataset``: one (a phrase, file or URL), several (a list), or None (as ``--dataset``)."""
    if isinstance(dataset, (list, tuple)):
        dataset = [d for d in dataset if d and d.strip()]
        return dataset[0] if len(dataset) == 1 else (dataset or None)
    return dataset or None


def _datasets(stack, question: str | None, dataset, reading, warnings: list[str], check: bool = True):
    """The datasets of a run and how each was chosen, as ``ask`` chooses them (:func:`~vibeplot.core.ask.loop.choose_datasets`)."""
    from vibeplot.core.ask.loop import AskOptions, choose_datasets

    opts = AskOptions(question=question or "", stack=stack.name, dataset=_given(dataset))
    return choose_datasets(opts, stack, warn=warnings.append, reading=reading, check=check)


def get_prompt(question: str, stack: str | None = None, dataset: str | list[str] | None = None) -> PromptInfo:
    from vibeplot.core import plugins
    from vibeplot.core.ask import prompt
    from vibeplot.core.ask.loop import prompt_question

    st = plugins.get_stack(plugins.stack_setting(stack))
    reading = _reading(question, required=True)
    found, _ = _datasets(st, question, dataset, reading, [], check=False)
    shown = found if len(found) > 1 else found[0]  # several: one dataset section each (as `hints show`)
    first = prompt.first_prompt(st, shown, prompt_question(question, reading))
    return PromptInfo(stack=st.name, dataset=found[0].name, datasets=[d.name for d in found],
                      question_id=reading.known.id if reading.known else None,
                      sha256=first.sha256, messages=[{"role": m["role"], "content": m["content"]}
                                                     for m in first.messages], text=first.text)


def _verdict(run_dir: Path, manifest: dict) -> VerdictInfo | None:
    from vibeplot.core.ask.loop import add_verdict
    from vibeplot.core.ask.rundir import save_manifest

    verdict = add_verdict(run_dir, manifest)
    if verdict is None:
        return None
    save_manifest(run_dir, manifest)
    return VerdictInfo(status=verdict["status"], diagnosis=verdict["diagnosis"])


def _histograms(run_dir: Path, plots: list[str]) -> list[dict]:
    out = []
    for png in plots:
        path = run_dir / f"{png}.json"
        if path.is_file():
            out.append(json.loads(path.read_text(encoding="utf-8")))
    return out


def run_code(settings: Settings, code: str, stack: str | None = None, dataset: str | list[str] | None = None,
             question: str | None = None, status=None) -> RunInfo:
    """Run ``code`` as one attempt of ``ask`` runs a model's script (see :mod:`vibeplot.core.ask.loop`).
    ``status(message)`` hears progress (default: :meth:`Settings.say`)."""
    from vibeplot.core import plugins, policies
    from vibeplot.core.ask.loop import _default_runner, _logs, grant_for, run_record
    from vibeplot.core.ask.rundir import RunRecord
    from vibeplot.core.errors import ConfigError
    from vibeplot.core.sandbox import isolation, run as sandbox
    from vibeplot.core.stack import Failure

    if not code.strip():
        raise ConfigError("the code is empty")
    say = status or settings.say
    st = plugins.get_stack(plugins.stack_setting(stack))
    reading = _reading(question)
    if question and reading.known is None:
        raise ConfigError(f"no benchmark question matches {question!r}",
                          hint="leave question out, or use an id from list_questions")
    warnings: list[str] = []
    datasets, resolutions = _datasets(st, question, dataset, reading, warnings)
    ds, names = datasets[0], [d.name for d in datasets]
    isolated = isolation.choose(isolation.mode(settings.limits.isolation))  # "required" and missing: stop here
    if not isolated.available:
        warnings.append(isolation.warning_once(isolated.detail))
    for d in datasets:
        if d.prepare:
            say(f"preparing dataset {d.name}")
            d.prepare()
    known = reading.known
    label = question or f"run_code {st.name} {ds.name}"
    record = RunRecord(settings.out, label, {
        "vibeplot_version": __version__,
        "question_id": known.id if known else None,
        "stack": st.name,
        "stack_source": st.source,
        "question_match": reading.match.as_dict() if reading.match else None,
        "model": "mcp-client",  # the code came from the MCP client (run_code), not from a model vibeplot asked
        "source": "mcp run_code",
        "dataset": ds.as_dict(),
        "dataset_resolution": resolutions[0],
        "datasets": [d.as_dict() for d in datasets],  # as ask records them (the first is "dataset")
        "dataset_resolutions": resolutions,
        "versions": plugins.installed_versions(["vibeplot", *st.packages]),
        "limits": vars(settings.limits),
        "isolation": None,
    })
    attempt: dict = {"n": 1}
    record.write(1, "script.py", code)
    try:
        problems = policies.check(code, st.policies)
        if problems:
            record.add_attempt({**attempt, "status": "policy", "problems": problems})
            record.finish("no-plot", "the code failed vibeplot's static checks; it was not run")
            return RunInfo(run_dir=str(record.path), ok=False, status="policy: " + "; ".join(problems),
                           returncode=None, timed_out=False, memory_exceeded=False, wall_seconds=0.0, peak_rss_mb=0.0,
                           isolation=isolation.NONE, stack=st.name, dataset=ds.name, datasets=names,
                           question_id=known.id if known else None, policy_problems=problems, stdout_tail="",
                           stderr_tail="", advice=[], plots=[], rejected=[], histograms=[], verdict=None,
                           warnings=warnings)
        say(f"running a script ({st.name}, {ds.name})")
        workdir = record.attempt_dir(1)
        runner = st.runner or _default_runner
        with sandbox.granting(grant_for(st, datasets)):
            result = runner(workdir / "script.py", workdir=workdir, limits=settings.limits, dataset=ds)
        record.manifest["isolation"] = result.isolation
        attempt["run"] = run_record(result)
        stdout, stderr = result.stdout, result.stderr
        advice: list[str] = []
        verdict = None
        if result.ok:
            record.add_attempt({**attempt, "status": "plot"})
            record.finish("plot", f"{len(result.new_pngs)} plot(s)", result.new_pngs)
            if known is not None:
                say("validating the plot against the reference")
                verdict = _verdict(record.path, record.manifest)
        else:
            failure = Failure(code, stdout, stderr, result.returncode, timed_out=result.timed_out,
                              memory_exceeded=result.memory_exceeded, logs=_logs(workdir))
            advice = st.explain(failure)
            record.add_attempt({**attempt, "status": "failed", "failure": result.describe(), "advice": advice})
            record.finish("no-plot", f"the script failed: {result.describe()}")
    except BaseException as err:  # never leave run.json at "running"
        if record.manifest.get("outcome") == "running":
            record.finish("error", f"vibeplot failed: {type(err).__name__}: {err}")
        raise
    plots = list(record.manifest.get("plots", []))
    return RunInfo(run_dir=str(record.path), ok=result.ok, status=result.describe(), returncode=result.returncode,
                   timed_out=result.timed_out, memory_exceeded=result.memory_exceeded,
                   wall_seconds=round(result.wall_seconds, 3), peak_rss_mb=round(result.peak_rss_mb, 1),
                   isolation=result.isolation, worker=getattr(result, "worker", None), stack=st.name,
                   dataset=ds.name, datasets=names, question_id=known.id if known else None,
                   policy_problems=[], stdout_tail=sandbox.tail(stdout, 20), stderr_tail=sandbox.tail(stderr),
                   advice=advice, plots=plots, rejected=list(result.rejected),
                   histograms=_histograms(record.path, plots), verdict=verdict, warnings=warnings)


def _question(question: str):
    from vibeplot.core.errors import ConfigError

    found = _reading(question, required=True).known
    if found is None:
        raise ConfigError(f"no benchmark question matches {question!r}; nothing to validate against",
                          hint="use an id from list_questions")
    return found


#: what ``validate`` takes as histograms: the capture sidecars, as ``run_code`` returns them
HISTOGRAMS_FORM = ('per PNG: {"image": NAME, "axes": [{"histograms": [{"edges": [...], "values": [...]}, ...]}, ...]}')


def _check_histograms(histograms) -> None:
    """A :class:`ConfigError` unless ``histograms`` has the form of capture sidecars (:data:`HISTOGRAMS_FORM`).

    >>> _check_histograms([{"image": "met.png", "axes": [{"histograms": [{"edges": [0, 1], "values": [2]}]}]}])
    >>> _check_histograms([{"image": "met.png", "axes": ["x"]}])
    Traceback (most recent call last):
    ...
    vibeplot.core.errors.ConfigError: the histograms are not in the form run_code returns them: met.png: axes 0 is not an object
    """
    from vibeplot.core.errors import ConfigError

    def bad(why: str):
        return ConfigError(f"the histograms are not in the form run_code returns them: {why}", hint=HISTOGRAMS_FORM)

    if not isinstance(histograms, list):
        raise bad("not a list")
    for i, sidecar in enumerate(histograms):
        if not isinstance(sidecar, dict) or not isinstance(sidecar.get("axes", []), list):
            raise bad(f"item {i} is not an object with a list of axes")
        name = str(sidecar.get("image", f"item {i}"))
        for j, axes in enumerate(sidecar.get("axes", [])):
            if not isinstance(axes, dict) or not isinstance(axes.get("histograms", []), list):
                raise bad(f"{name}: axes {j} is not an object")
            for h in axes.get("histograms", []):
                if not isinstance(h, dict) or not all(isinstance(h.get(k, []), list) for k in ("edges", "values")):
                    raise bad(f"{name}: axes {j} has a histogram without lists of edges and values")


def validate(settings: Settings, question: str | None = None, run: str | None = None,
             histograms: list[dict] | None = None, dataset: str | list[str] | None = None) -> ValidationInfo:
    """A run's verdict (``run``: its directory, or its name under the server's ``out``), or the verdict on
    ``histograms`` (capture sidecars, as ``run_code`` returns them) for ``question`` on ``dataset``."""
    from vibeplot.core.ask import validate as checks
    from vibeplot.core.ask.history import locate, read_run
    from vibeplot.core.errors import ConfigError

    if (run is None) == (histograms is None):
        raise ConfigError("give either run (a run directory) or histograms, not both or neither")
    if run is not None:
        path = locate(run, settings.out)
        manifest = read_run(path)
        recorded = manifest.get("question_id")
        if question:
            wanted = _question(question).id
            if recorded and recorded != wanted:
                raise ConfigError(f"the run {path.name} is of {recorded}, not {wanted}",
                                  hint="leave question out to validate it as its own question")
            manifest["question_id"] = wanted
        elif not recorded:
            raise ConfigError(f"the run {path.name} is not of a benchmark question; name one with question")
        verdict = _verdict(path, manifest)
        assert verdict is not None  # a question id is set
        return ValidationInfo(question_id=manifest["question_id"], run_dir=str(path),
                              dataset=(manifest.get("dataset") or {}).get("name", ""), status=verdict.status,
                              diagnosis=verdict.diagnosis)
    if not question:
        raise ConfigError("validating histograms needs the question they answer")
    q = _question(question)
    _check_histograms(histograms)  # before the truth reference runs
    from vibeplot.core.resolver import ResolveContext, pick_all

    found = [r.dataset for r in pick_all(_given(dataset), None, q, ResolveContext(), warn=lambda message: None)]
    for d in found:
        if d.prepare:
            d.prepare()
    ds = found[0]
    location, fmt, name = ds.location, ds.format, ds.name
    if len(found) > 1:  # several samples: the references read them all, in this order (as validate_run)
        formats = {d.format for d in found}
        location, fmt = [d.location for d in found], (formats.pop() if len(formats) == 1 else "")
        name = " + ".join(d.name for d in found)
    try:
        truth = checks.truth_values_for(q.id, location, fmt)
    except RuntimeError as err:
        truth, why = None, f"the truth reference failed: {err}"
    else:
        why = "no installed stack has a reference for it that reads this dataset directly"
    if truth is None:
        return ValidationInfo(question_id=q.id, dataset=name, status="unverifiable",
                              diagnosis=[f"no truth values for {q.id} on {name}: {why}"])
    try:
        verdict = checks.validate(histograms, truth)
        if verdict.status == "wrong":
            mistakes = checks.mistake_values_for(q.id, location, fmt)
            if mistakes:
                verdict = checks.validate(histograms, truth, mistakes)
    except (AttributeError, TypeError, ValueError) as err:  # not what the capture module writes
        raise ConfigError(f"the histograms are not in the form run_code returns them ({type(err).__name__}: {err})",
                          hint=HISTOGRAMS_FORM) from None
    return ValidationInfo(question_id=q.id, dataset=name, status=verdict.status, diagnosis=verdict.diagnosis)


def ask(settings: Settings, question: str, stack: str | None = None, model: str | None = None,
        dataset: str | list[str] | None = None, max_iterations: int | None = None, status=None) -> AskInfo:
    """``vibeplot ask``: the model, its server and key come from the settings (environment, config
    file) unless ``model`` is given; the key is never returned."""
    from vibeplot.core import plugins
    from vibeplot.core.ask import llm
    from vibeplot.core.ask.loop import AskOptions, ask as run_ask
    from vibeplot.core.errors import ConfigError

    if not question or not question.strip():
        raise ConfigError("the question is empty: say what to plot")
    model = config.setting("model", model)
    if not model:
        raise ConfigError("no model chosen", hint="pass model (e.g. reference, openai/gpt-5-mini), or set "
                                                  "VIBEPLOT_MODEL or model in " + str(config.config_path()))
    iterations = int(config.setting("max_iterations", max_iterations, config.DEFAULT_MAX_ITERATIONS))
    if not 1 <= iterations <= 20:
        raise ConfigError(f"max_iterations must be 1-20, not {iterations}")
    opts = AskOptions(question=llm.clean_text(question), stack=plugins.stack_setting(stack), model=model,
                      api_base=config.setting("api_base", None), api_key=llm.key_setting(None),
                      llm_timeout=llm.timeout_setting(None), dataset=_given(dataset), max_iterations=iterations,
                      out=settings.out, limits=settings.limits, lumi=config.lumi_setting(None))
    result = run_ask(opts, status=status or settings.say)
    manifest = result.manifest
    attempts = []
    for a in manifest.get("attempts", []):
        detail = a.get("failure") or "; ".join(a.get("problems", [])) or a.get("error", "")
        attempts.append(AttemptInfo(n=a["n"], status=a.get("status", ""), detail=str(detail)))
    scripts = sorted(result.run_dir.glob("attempt-*/script.py"), key=lambda p: int(p.parent.name.split("-")[1]))
    verdict = manifest.get("verdict")
    return AskInfo(outcome=result.outcome, message=result.message, run_dir=str(result.run_dir),
                   stack=manifest.get("stack", ""), model=model, dataset=(manifest.get("dataset") or {}).get("name", ""),
                   question_id=manifest.get("question_id"), attempts=attempts,
                   verdict=VerdictInfo(**verdict) if verdict else None,
                   script=scripts[-1].read_text(encoding="utf-8") if scripts else None,
                   plots=list(manifest.get("plots", [])), cost_usd=(manifest.get("totals") or {}).get("cost_usd"))


# -- the MCP server ----------------------------------------------------------------------------

#: at most this many bytes of PNGs go back as images in one result (the files stay in the run directory)
MAX_IMAGE_BYTES = 32 * 2**20


def images(run_dir: Path, plots: list[str]) -> list[tuple[str, str]]:
    """(name, base64 PNG) of the run's plots, read without following links, within :data:`MAX_IMAGE_BYTES`."""
    from vibeplot.core.sandbox.run import read_safely

    out, total = [], 0
    for name in plots:
        data = read_safely(Path(run_dir) / name, MAX_IMAGE_BYTES)
        if data is None or total + len(data) > MAX_IMAGE_BYTES:
            continue
        total += len(data)
        out.append((name, base64.b64encode(data).decode("ascii")))
    return out


def build_server(settings: Settings):
    """The MCP server (``mcp.server.mcpserver.MCPServer``) with vibeplot's tools."""
    from typing import Annotated

    import anyio.from_thread
    from mcp.server.mcpserver import Context, MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp_types import CallToolResult, ImageContent, TextContent, ToolAnnotations

    from vibeplot.core.errors import VibeplotError

    server = MCPServer(
        name="vibeplot", version=__version__, log_level="WARNING",
        instructions="vibeplot makes HEP plots: resolve a dataset, read the prompt and hints for a stack, run "
                     "analysis code in a sandbox and get the PNGs and histograms back, validate benchmark "
                     "questions, or run the whole ask loop.")

    #: hints for the client: what only reads, what writes run directories (never deleting anything)
    reads = ToolAnnotations(read_only_hint=True, open_world_hint=False)
    records = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False)
    verdicts = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False)

    @contextlib.contextmanager
    def errors():
        """vibeplot's own errors: one clear line to the client (a tool error), never a traceback."""
        try:
            yield
        except VibeplotError as err:
            raise ToolError(str(err) + (f" ({err.hint})" if err.hint else "")) from None

    def progress(ctx: Context):
        """Progress lines to stderr and, when the client asked for them, as MCP progress notifications
        (a tool runs in a worker thread; the notification is sent from the event loop)."""
        count = 0

        def status(message: str) -> None:
            nonlocal count
            settings.say(message)
            count += 1
            try:
                anyio.from_thread.run(ctx.report_progress, count, None, message)
            except Exception:  # a client gone or not listening: progress is never worth failing for
                pass

        return status

    def with_images(info: BaseModel, run_dir: str, plots: list[str], summary: str) -> CallToolResult:
        content: list = [TextContent(type="text", text=summary),
                         TextContent(type="text", text=info.model_dump_json(indent=2))]
        for _, data in images(Path(run_dir), plots):
            content.append(ImageContent(type="image", data=data, mime_type="image/png"))
        return CallToolResult(content=content, structured_content=info.model_dump(mode="json"))

    @server.tool(name="list_stacks", annotations=reads, description=TOOLS["list_stacks"])
    def list_stacks_tool() -> list[StackInfo]:
        with errors():
            return list_stacks()

    @server.tool(name="list_questions", annotations=reads, description=TOOLS["list_questions"]
                 + " spec: comma-separated ids or sets (adl, extra, all).")
    def list_questions_tool(spec: str = "all") -> list[QuestionInfo]:
        with errors():
            return list_questions(spec)

    @server.tool(name="resolve_dataset", annotations=reads, description=TOOLS["resolve_dataset"]
                 + " stack: prefer datasets that stack reads.")
    def resolve_dataset_tool(phrase: str, stack: str | None = None) -> Resolution:
        with errors():
            return resolve_dataset(phrase, stack)

    @server.tool(name="get_prompt", annotations=reads, description=TOOLS["get_prompt"]
                 + " stack: default the default stack; dataset: a phrase, local file or URL (default: the one "
                   "the question names, its benchmark dataset, or the embedded sample).")
    def get_prompt_tool(question: str, stack: str | None = None,
                        dataset: str | list[str] | None = None) -> Annotated[CallToolResult, PromptInfo]:
        with errors():
            info = get_prompt(question, stack, dataset)
        return CallToolResult(content=[TextContent(type="text", text=info.text)],
                              structured_content=info.model_dump(mode="json"))

    @server.tool(name="run_code", annotations=records, description=TOOLS["run_code"]
                 + " The script reads the dataset's location (see resolve_dataset or get_prompt) and saves its "
                   "plots as PNG files in the working directory. question (optional): the benchmark question it "
                   "answers; then the plot is validated. The sandbox limits are the server's.")
    def run_code_tool(code: str, ctx: Context, stack: str | None = None, dataset: str | list[str] | None = None,
                      question: str | None = None) -> Annotated[CallToolResult, RunInfo]:
        with errors():
            info = run_code(settings, code, stack, dataset, question, status=progress(ctx))
        summary = f"{info.status}: {len(info.plots)} plot(s) in {info.run_dir}"
        if info.verdict is not None:
            summary += f"; verdict {info.verdict.status}"
        return with_images(info, info.run_dir, info.plots, summary)

    @server.tool(name="validate", annotations=verdicts, description=TOOLS["validate"]
                 + " run: a run directory (or its name under the server's output folder); or histograms: the "
                   "histograms run_code returned, with question and optionally dataset (default: the "
                   "question's).")
    def validate_tool(question: str | None = None, run: str | None = None,
                      histograms: list[dict[str, Any]] | None = None,
                      dataset: str | list[str] | None = None) -> ValidationInfo:
        with errors():
            return validate(settings, question, run, histograms, dataset)

    @server.tool(name="ask", annotations=records, description=TOOLS["ask"]
                 + " model: a litellm model string, or 'reference' for the curated solutions of benchmark "
                   "questions (default: the configured model; its key comes from the server's settings).")
    def ask_tool(question: str, ctx: Context, stack: str | None = None, model: str | None = None,
                 dataset: str | list[str] | None = None, max_iterations: int | None = None) -> Annotated[CallToolResult, AskInfo]:
        with errors():
            info = ask(settings, question, stack, model, dataset, max_iterations, status=progress(ctx))
        summary = f"{info.outcome}: {info.message} ({info.run_dir})"
        if info.verdict is not None:
            summary += f"; verdict {info.verdict.status}"
        return with_images(info, info.run_dir, info.plots, summary)

    return server


def serve(settings: Settings) -> None:
    """Serve the tools over stdio until the client closes the connection."""
    build_server(settings).run("stdio")
