"""The ask loop: question → dataset → prompt → model → code → policies → sandbox → plots → record.

>>> result = ask(AskOptions(question="Plot the missing ET of all events", model="reference"))  # doctest: +SKIP
>>> result.outcome, [p.name for p in result.plots]                                              # doctest: +SKIP
('plot', ['met.png'])
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from vibeplot.core import __version__, config, plugins, policies, questions

from vibeplot.core.ask import extract, llm, oracle, prompt
from vibeplot.core.sandbox import run as sandbox
from vibeplot.core.resolver import (
    Chooser, Dataset, ResolveContext, check_readable, find_phrase, find_phrases, pick_all, strip_phrase,
)
from vibeplot.core.errors import BudgetExceeded, DatasetError, VibeplotError
from vibeplot.core.ask.llm import DEFAULT_TIMEOUT
from vibeplot.core.ask.rundir import RunRecord
from vibeplot.core.stack import Failure

#: file a reference run leaves in its attempt directory: the values it histogrammed
TRUTH_VALUES = "truth-values.json"


@dataclass
class AskOptions:
    question: str
    #: None: the default stack (``plugins.default_stack``)
    stack: str | None = None
    model: str = oracle.NAME
    api_base: str | None = None
    #: the key sent to the model server; with ``api_base`` the only key ever sent (never recorded)
    api_key: str | None = None
    #: seconds one try of a model call may take; all retries of a call end within 4 times that
    llm_timeout: float = DEFAULT_TIMEOUT
    #: ``--dataset``: a local file, a file URL or a phrase; several (a list) for a question about
    #: several samples (a data/MC overlay, a stacked plot)
    dataset: str | list[str] | tuple[str, ...] | None = None
    max_iterations: int = config.DEFAULT_MAX_ITERATIONS
    out: Path = Path(config.DEFAULT_OUT)
    use_cache: bool = True
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    #: settles an ambiguous dataset phrase: ``choose(phrase, candidates) -> Candidate``
    #: (the CLI sets one on a TTY); None takes the best match and warns
    choose: Callable | None = None
    #: wraps every model call (``vibeplot compare``'s --max-cost): a context manager factory whose
    #: value gets ``.settle(cost_usd)`` after the call; entering may raise BudgetExceeded
    model_gate: Callable | None = None
    #: held while a script runs (a semaphore bounding concurrent scripts), None for no bound
    run_slot: object | None = None
    #: integrated luminosity (fb^-1) to normalise simulation to when the question states none (--lumi)
    lumi: float | None = None
    #: the run this one follows up (``ask --continue``): its question, final script and results go
    #: into the prompt (:func:`vibeplot.core.ask.followup.with_parent`), run.json records ``parent_run``
    parent: Path | None = None


@dataclass
class AskResult:
    outcome: str  # "plot", "no-plot", "declined"
    message: str
    run_dir: Path
    plots: list[Path]
    manifest: dict


Status = Callable[[str], None]


@dataclass(frozen=True)
class Reading:
    """What a question's text says, worked out once per run: the dataset phrase it names
    (:func:`~vibeplot.core.resolver.find_phrase`, or None) and the benchmark question it asks
    once that phrase is taken out (:func:`benchmark_text`, or None)."""

    phrase: str | None
    known: questions.Question | None
    #: how the benchmark question was recognised, or why none was (``question_match`` in run.json)
    match: questions.Match | None = None
    #: every dataset phrase the question names, in the order written (several for a data/MC overlay)
    phrases: tuple[str, ...] = ()


def read_question(question: str) -> Reading:
    phrase = find_phrase(question)
    phrases = tuple(find_phrases(question)) if phrase else ()
    # several datasets named (a data/MC or stacked question): matched as written, since the registered
    # wording names them too (and its Z in "the toy Z->mumu MC" must not read as a selection)
    stripped = question if len(phrases) > 1 else strip_phrase(question, phrase)
    found = questions.explain(stripped)
    return Reading(phrase, found.question, found, phrases if len(phrases) > 1 else ((phrase,) if phrase else ()))


def prompt_question(question: str, reading: Reading) -> str:
    """The question as the model gets it: a benchmark question asked by id ("adl-6") is sent
    in its registered wording, anything else as typed."""
    if reading.known is not None and reading.match is not None and reading.match.how == "id":
        return reading.known.text
    return question


def choose_dataset(opts: AskOptions, stack, choose: Chooser | None = None,
                   warn: Callable[[str], None] | None = None,
                   reading: Reading | None = None, check: bool = True) -> tuple[Dataset, dict]:
    """The first of :func:`choose_datasets` (the only one for a question about one sample)."""
    found, how = choose_datasets(opts, stack, choose, warn, reading, check)
    return found[0], how[0]


def _registered_order(found: list, known: questions.Question | None) -> list:
    """``found`` (resolutions) in the order the benchmark question registers its datasets, when it
    names exactly these (its reference solutions read them in that order), else as given."""
    registered = list(getattr(known, "datasets", ()) or ()) if known is not None else []
    if len(registered) < 2 or len(found) != len(registered):
        return found
    from vibeplot.core.resolver import resolve

    try:
        names = [resolve(p, ResolveContext()).dataset.name for p in registered]
    except Exception:  # a registered phrase that no longer resolves: keep the given order
        return found
    by_name = {r.dataset.name: r for r in found}
    return [by_name[n] for n in names] if set(names) == set(by_name) else found


def choose_datasets(opts: AskOptions, stack, choose: Chooser | None = None,
                    warn: Callable[[str], None] | None = None,
                    reading: Reading | None = None, check: bool = True) -> tuple[list[Dataset], list[dict]]:
    """The dataset to use and how it was chosen (recorded in run.json).

    Precedence (:func:`vibeplot.core.resolver.pick`): ``--dataset`` (a local file or URL, else a phrase)
    > a dataset phrase found in the question > the benchmark question's registered dataset > the
    embedded sample.  An ambiguous phrase is settled by ``choose`` (or ``opts.choose``), else it is
    an error listing the candidates (:class:`~vibeplot.core.resolver.AmbiguousDataset`).  A dataset
    the stack cannot read is an error here, before any model call.  ``reading``: the question
    already read (:func:`read_question`).
    ``check=False`` skips the stack's ``check_dataset`` (what running needs, e.g. ServiceX
    credentials), for showing a prompt without running it.
    """
    reading = reading or read_question(opts.question)
    context = ResolveContext(stack=stack.name, formats=tuple(stack.formats or ()))
    found = pick_all(opts.dataset, reading.phrases or reading.phrase, reading.known, context,
                     choose or opts.choose, warn)
    found = _registered_order(found, reading.known)
    given = [bool(r.dataset.metadata.get("given_as_path") or r.dataset.metadata.get("given_as_url")) for r in found]
    if len(set(given)) > 1:
        raise DatasetError(
            "the datasets of one question must all be files (a path or URL given with --dataset) or all be "
            f"named datasets; got {', '.join(r.dataset.name for r in found)}",
            hint="give every sample as a file, or every sample by name",
        )
    stated = questions.luminosity_fb(opts.question)  # "10 fb^-1", "10/fb", "10 inverse femtobarns", ...
    note = question_lumi_note(stated) if stated is not None else lumi_note(opts.lumi) if opts.lumi is not None else None
    for r in found:
        ds = r.dataset
        if ds.metadata.get("kind") != "data" and note is not None:
            ds.prompt_notes = ds.prompt_notes.rstrip("\n") + "\n" + note
        if stack.formats and ds.format not in stack.formats:
            raise DatasetError(
                f"the {stack.name} stack cannot read {ds.name} (format {ds.format})",
                hint=f"it reads: {', '.join(stack.formats)}; pick another stack with --stack",
            )
        if check:
            check_readable(ds.location)  # a root:// dataset needs the xrootd extra, in every stack
        if check and stack.check_dataset is not None:
            stack.check_dataset(ds)
    return [r.dataset for r in found], [r.as_dict() for r in found]


def question_lumi_note(lumi_fb: float) -> str:
    """The dataset-block line for a luminosity the question states (:func:`~vibeplot.core.questions.luminosity_fb`),
    in both units, so that the model need not convert it; it replaces ``--lumi``'s line.

    >>> question_lumi_note(0.3)
    '- Luminosity the question asks for: L = 0.3 fb^-1 = 300 pb^-1; state it in the y-axis label.\\n'
    """
    return f"- Luminosity the question asks for: L = {lumi_fb:g} fb^-1 = {lumi_fb * 1000:g} pb^-1; state it in the y-axis label.\n"


def lumi_note(lumi_fb: float) -> str:
    """The dataset-block line for ``--lumi``: the luminosity to normalise to if the question gives none.

    >>> lumi_note(10)
    '- Luminosity to normalise to if the question states none (given with --lumi): L = 10 fb^-1 = 10000 pb^-1; state it in the y-axis label.\\n'
    """
    return (f"- Luminosity to normalise to if the question states none (given with --lumi): L = {lumi_fb:g} fb^-1 "
            f"= {lumi_fb * 1000:g} pb^-1; state it in the y-axis label.\n")


def benchmark_text(question: str) -> str:
    """The question as matched against the benchmark registry: without a dataset phrase
    ("... in the ADL benchmark sample"), which names the data, not the plot."""
    return strip_phrase(question, find_phrase(question))


def add_verdict(run_dir: Path, manifest: dict) -> dict | None:
    """Validate a finished run of a benchmark question; store and return the verdict."""
    from vibeplot.core.ask import validate

    try:
        verdict = validate.validate_run(run_dir, manifest)
    except Exception as err:  # validation must never lose the plot that was made
        verdict = validate.Verdict("unverifiable", [f"validation failed: {err}"])
    if verdict is None:
        return None
    manifest["verdict"] = validate.verdict_record(verdict)
    return manifest["verdict"]


def grant_for(stack, ds: Dataset | list[Dataset]) -> sandbox.Grant:
    """What scripts of ``stack`` may reach for ``ds`` (one dataset or several): each dataset file
    (read-only) and, when the stack says so (``Stack.network``) for any of them, the network."""
    datasets = ds if isinstance(ds, (list, tuple)) else [ds]
    files = []
    for d in datasets:
        location = Path(d.location).expanduser() if d.location and "://" not in d.location else None
        if location is not None and location.exists():
            files.append(location.resolve())
    return sandbox.Grant(network=any(stack.needs_network(d) for d in datasets), read_only=tuple(files))


def _logs(workdir: Path) -> dict[str, str]:
    """The attempt's ``*.log`` files (e.g. a local ServiceX backend's), read without following links."""
    logs = {}
    for path in sorted(workdir.glob("*.log")):
        data = sandbox.read_safely(path, 4 * 2**20)
        if data is not None:
            logs[path.name] = data.decode("utf-8", errors="replace")
    return logs


def run_record(result: sandbox.RunResult) -> dict:
    """What run.json keeps of one script run (an attempt's ``run``)."""
    run = {
        "returncode": result.returncode,
        "wall_seconds": round(result.wall_seconds, 3),
        "peak_rss_mb": round(result.peak_rss_mb, 1),
        "timed_out": result.timed_out,
        "memory_exceeded": result.memory_exceeded,
        "pngs": [p.name for p in result.new_pngs],
        "isolation": result.isolation,
        "worker": result.worker,  # "warm" (a pre-imported worker) or "cold"
    }
    if result.startup_seconds is not None:  # warm: request to first line; CPU of the script's process
        run["startup_seconds"] = round(result.startup_seconds, 3)
    if result.cpu_seconds is not None:
        run["cpu_seconds"] = round(result.cpu_seconds, 3)
    if result.rejected:
        run["rejected"] = result.rejected
    if result.cut_bytes:
        run["output_cut_bytes"] = result.cut_bytes
    return run


def _default_runner(script: Path, *, workdir: Path, limits: sandbox.Limits, dataset: Dataset):
    return sandbox.run_script(script, workdir=workdir, limits=limits)


def model_for(opts: AskOptions, known: questions.Question | None, stack, ds: Dataset | list[Dataset]):
    """What the loop asks for replies (``.reply(messages)``, ``.records_values``): the oracle
    (:class:`~vibeplot.core.ask.oracle.Oracle`) or an LLM (:class:`~vibeplot.core.ask.llm.Model`).
    Either refuses here, before any work: the oracle an unknown question, an LLM missing credentials."""
    if oracle.is_oracle(opts.model):
        return oracle.Oracle(known, stack, ds)
    return llm.Model(opts.model, api_base=opts.api_base, api_key=opts.api_key, use_cache=opts.use_cache,
                     timeout=opts.llm_timeout)


def ask(opts: AskOptions, status: Status = lambda message: None) -> AskResult:
    stack = plugins.get_stack(opts.stack)
    reading = read_question(opts.question)
    known = reading.known
    datasets, resolutions = choose_datasets(opts, stack, reading=reading)
    ds, resolution = datasets[0], resolutions[0]
    shown = datasets if len(datasets) > 1 else ds  # what the prompt's dataset sections describe
    from vibeplot.core.sandbox import isolation

    isolated = isolation.choose(isolation.mode(opts.limits.isolation))  # "required" and missing: stop here
    if not isolated.available:
        isolation.warning_once(isolated.detail)
    model = model_for(opts, known, stack, shown)
    for d in datasets:
        if d.prepare:
            status(f"preparing dataset {d.name}")
            d.prepare()
    asked = prompt_question(opts.question, reading)
    if opts.parent is not None:
        from vibeplot.core.ask import followup

        asked = followup.with_parent(asked, opts.parent)
    first = prompt.first_prompt(stack, shown, asked)
    record = RunRecord(opts.out, opts.question, {
        "vibeplot_version": __version__,
        "question_id": known.id if known else None,
        "stack": stack.name,
        "stack_source": stack.source,
        "question_match": reading.match.as_dict() if reading.match else None,
        "model": opts.model,
        "api_base": opts.api_base,
        "api_key_given": bool(opts.api_key),  # never the key itself
        "llm_timeout": opts.llm_timeout,
        "dataset": ds.as_dict(),
        "dataset_resolution": resolution,
        # every dataset of the question, in the order the prompt lists them (the first is "dataset")
        "datasets": [d.as_dict() for d in datasets],
        "dataset_resolutions": resolutions,
        "versions": plugins.installed_versions(["vibeplot", "litellm", *stack.packages]),
        "prompt_sha256": first.sha256,
        "max_iterations": opts.max_iterations,
        "limits": vars(opts.limits),
        "isolation": None,  # "bubblewrap" or "none", set when a script runs
        **({"parent_run": str(Path(opts.parent).resolve())} if opts.parent is not None else {}),
    })
    run = stack.runner or _default_runner
    current = first
    try:
        for n in range(1, opts.max_iterations + 1):
            attempt: dict = {"n": n, "prompt_sha256": current.sha256}
            record.write(n, "prompt.md", current.text)
            status(f"attempt {n}/{opts.max_iterations}: waiting for {opts.model}")
            try:
                with (opts.model_gate() if opts.model_gate else contextlib.nullcontext()) as gate:
                    reply = model.reply(current.messages)
                    if gate is not None:
                        gate.settle(reply.cost_usd)
            except BudgetExceeded as err:  # nothing was sent: the run stops here, unfinished
                record.add_attempt({**attempt, "status": "budget", "error": str(err)})
                record.finish("budget", str(err))
                raise
            except VibeplotError as err:
                record.add_attempt({**attempt, "status": "model-error", "error": str(err)})
                record.finish("error", str(err))
                raise
            record.write(n, "reply.md", reply.text)
            attempt["llm"] = reply.as_dict()
            got = extract.extract(reply.text)
            attempt["notes"] = got.notes
            if got.chosen:  # several python blocks: which one ran, and why
                attempt["code_block"] = got.chosen
            if got.declined:
                record.add_attempt({**attempt, "status": "declined"})
                message = f"the model declined: {got.declined}"
                record.finish("declined", message)
                return AskResult("declined", message, record.path, [], record.manifest)
            problems = list(got.problems)
            if got.code is not None:
                record.write(n, "script.py", got.code)
                problems += policies.check(got.code, stack.policies)
            if got.code is None or problems:
                record.add_attempt({**attempt, "status": "policy", "problems": problems})
                current = prompt.fix_prompt(stack, shown, asked, got.code, problems + got.warnings, "", "", [])
                continue
            status(f"attempt {n}/{opts.max_iterations}: running the script")
            workdir = record.attempt_dir(n)
            recording = (sandbox.recording_values(workdir / TRUTH_VALUES) if model.records_values
                         else contextlib.nullcontext())  # a reference run also records what it histograms
            with recording, sandbox.granting(grant_for(stack, datasets)), (opts.run_slot or contextlib.nullcontext()):
                result = run(workdir / "script.py", workdir=workdir, limits=opts.limits, dataset=ds)
            record.manifest["isolation"] = result.isolation
            attempt["run"] = run_record(result)
            if result.ok:
                record.add_attempt({**attempt, "status": "plot"})
                message = f"{len(result.new_pngs)} plot(s) in attempt {n}"
                record.finish("plot", message, result.new_pngs)
                if known is not None:
                    status("validating the plot against the reference")
                    add_verdict(record.path, record.manifest)
                    record.save()
                return AskResult("plot", message, record.path, [record.path / p for p in record.manifest["plots"]],
                                 record.manifest)
            stdout, stderr = result.stdout, result.stderr
            failure = Failure(got.code, stdout, stderr, result.returncode,
                              timed_out=result.timed_out, memory_exceeded=result.memory_exceeded,
                              logs=_logs(workdir))
            advice = stack.explain(failure)
            record.add_attempt({**attempt, "status": "failed", "failure": result.describe(), "advice": advice})
            current = prompt.fix_prompt(stack, shown, asked, got.code,
                                        [f"The script ran: {result.describe()}.", *got.warnings],
                                        sandbox.tail(stdout, 20), sandbox.tail(stderr), advice)
        message = f"no plot after {opts.max_iterations} attempt(s)"
        record.finish("no-plot", message)
        return AskResult("no-plot", message, record.path, [], record.manifest)
    except KeyboardInterrupt as err:  # Ctrl-C, or SIGTERM/SIGHUP (errors.Terminated)
        record.finish("interrupted", getattr(err, "message", "interrupted by the user"))
        raise
    except BaseException as err:  # never leave run.json at "running"
        if record.manifest.get("outcome") == "running":
            record.finish("error", f"vibeplot failed: {type(err).__name__}: {err}")
        raise
