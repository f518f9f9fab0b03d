"""Compare stacks and models on benchmark questions: questions × stacks × models × trials.

Every *cell* ``(stack, model, question, trial)`` is a full :func:`~vibeplot.core.ask.loop.ask`
run with validation, in its own run directory ``OUT/runs/<cell key>/<time>-<slug>/``.
``reference`` (the curated solutions) is added as a baseline, one trial per stack and
question, unless ``baseline=False``.

Execution (:func:`run_compare`):

* cells run in a thread pool of ``jobs``, so up to ``jobs`` model calls are in flight;
  scripts are bounded separately to the machine's cores (:data:`RUN_SLOTS`);
* ``max_cost``: before every model call the spending so far, plus what the calls
  already in flight may cost, plus the most expensive call seen so far must stay
  within the budget; otherwise no new call starts, the cell stops unfinished (it is
  not recorded, so ``--resume`` with a larger budget runs it) and no new cell starts.
  Until the first price is known, calls go one at a time.  Costs are litellm's
  figures for the provider's reported token usage, or the user's price (``--price``,
  the ``prices`` setting: :func:`vibeplot.core.ask.llm.user_price`; rows say which in ``price``); a
  model without a known price cannot be budgeted and is refused up front;
* every finished trial is written at once as its own one-row Parquet file
  ``OUT/results/<cell key>.parquet`` (:func:`~vibeplot.core.files.atomic_write`, never half written),
  so an interrupted compare loses nothing, and ``resume`` runs only the missing cells;
  a results file that is damaged anyway (truncated, not Parquet, a verdict outside
  :data:`VERDICTS`, another cell's row: :func:`read_row`) is reported by name, its cell
  is run again on ``resume`` (the new row replaces it), and readers skip it;
* ``executor="dask://HOST:PORT"`` sends cells to a Dask distributed scheduler instead
  (``pip install 'vibeplot[dask]'``); the workers need vibeplot and a shared file
  system for ``OUT``.  There the budget is checked per cell (the estimate is the most
  expensive finished cell), since model calls happen on the workers.
* ServiceX cells on local files or OpenData need the local backend: with the local
  executor the compare starts one, when the first such cell needs it, for all its cells
  (log ``OUT/servicex-backend.log``), and stops it at the end (on an error too; on
  Ctrl-C once the cells already running have finished); each request keeps its own
  id, bucket and client cache.  On Dask each
  cell starts its own on its worker (a loopback URL does not reach other machines),
  unless the workers have ``VIBEPLOT_LOCAL_SERVICEX`` set.

Results, one row per trial (:data:`SCHEMA`), read with pandas in one line::

    pandas.read_parquet("OUT/results")

Verdicts: ``correct`` / ``wrong`` / ``unverifiable`` (a plot, judged against the
reference), ``failed`` (no plot: scripts failed, or the model could not be reached),
``policy`` (no plot, last attempt broke a static policy or had no code), ``declined``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.parquet as pq

from vibeplot.core import config
from vibeplot.core.files import atomic_write
from vibeplot.core.errors import BudgetExceeded, ConfigError, ModelCallError, VibeplotError, require_extra
from vibeplot.core.ask import oracle
from vibeplot.core.ask.llm import DEFAULT_TIMEOUT

VERDICTS = ("correct", "wrong", "unverifiable", "failed", "policy", "declined")

SCHEMA = pa.schema([
    ("stack", pa.string()),
    ("model", pa.string()),
    ("question", pa.string()),
    ("trial", pa.int32()),
    ("attempts", pa.int32()),
    ("verdict", pa.string()),  # one of VERDICTS
    ("diagnosis", pa.string()),  # the validator's diagnosis, "; "-joined
    ("tokens_in", pa.int64()),
    ("tokens_out", pa.int64()),
    ("cost_usd", pa.float64()),  # null when the model has no known price
    ("llm_seconds", pa.float64()),
    ("script_seconds", pa.float64()),
    ("error_category", pa.string()),  # why there is no plot: policy, timeout, memory, model-error, KeyError, ...
    ("plots", pa.list_(pa.string())),  # PNG paths relative to OUT
    ("run_dir", pa.string()),  # relative to OUT
    ("price", pa.string()),  # where cost_usd comes from: litellm, user (--price / prices table), unknown; "" baseline
])
#: columns a results file written before they existed may lack (read as null)
OPTIONAL_COLUMNS = ("price",)

#: the log of the compare's one local ServiceX backend (local executor), in OUT
SERVICEX_LOG = "servicex-backend.log"

#: concurrent script runs in this process: one per core (model calls are not bounded by it)
RUN_SLOTS = threading.BoundedSemaphore(os.cpu_count() or 1)


@dataclass(frozen=True)
class Cell:
    stack: str
    model: str
    question: str
    trial: int

    @property
    def key(self) -> str:
        """File-name-safe identity of the cell, e.g. ``rdataframe__openai-gpt-4o-mini__adl-1__t2``."""
        model = re.sub(r"[^A-Za-z0-9.]+", "-", self.model).strip("-")
        return f"{self.stack}__{model}__{self.question}__t{self.trial}"


@dataclass
class CompareOptions:
    questions: list[str]
    stacks: list[str]
    models: list[str]
    trials: int = 1
    jobs: int = 4
    out: Path = Path("vibeplot-compare")
    max_iterations: int = config.DEFAULT_MAX_ITERATIONS
    max_cost: float | None = None
    resume: bool = False
    api_base: str | None = None
    executor: str = "local"  # or "dask://HOST:PORT"
    baseline: bool = True
    timeout: float = config.DEFAULT_SCRIPT_TIMEOUT
    memory_mb: int = config.DEFAULT_MEMORY_MB
    #: sent to the model server (with api_base the only key sent); never written anywhere
    api_key: str | None = field(default=None, repr=False)
    #: seconds one try of a model call may take
    llm_timeout: float = DEFAULT_TIMEOUT
    #: ``--price``: model -> USD per million (input, output) tokens, over litellm's map
    prices: dict = field(default_factory=dict)
    #: scripts run in warm workers (:mod:`vibeplot.core.sandbox.warm`; local executor)
    warm: bool = True
    #: formats besides PNG each plot is also saved in (``--format``, e.g. ``("pdf",)``)
    formats: tuple[str, ...] = ()


@dataclass
class Progress:
    """What a progress display shows; updated from worker threads under ``lock``."""

    total: int
    done: int = 0
    running: int = 0
    failed: int = 0  # no plot (failed, policy, declined)
    cost: float = 0.0
    skipped: int = 0  # already in the results (resume)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


@dataclass
class CompareResult:
    out: Path
    cells: int
    ran: int
    skipped: int
    stopped: str = ""  # why the compare stopped early ("" if it did not)
    cost: float = 0.0


def plan(opts: CompareOptions) -> list[Cell]:
    """Every cell to run, baseline first, in a stable order."""
    cells = []
    if opts.baseline:
        cells += [Cell(s, oracle.NAME, q, 1) for s in opts.stacks for q in opts.questions]
    cells += [Cell(s, m, q, t) for m in llms(opts.models)
              for s in opts.stacks for q in opts.questions for t in range(1, opts.trials + 1)]
    return cells


def llms(models: list[str]) -> list[str]:
    """``models`` without the oracle (it is the baseline: one trial, no price, no credentials)."""
    return [m for m in models if not oracle.is_oracle(m)]


# -- budget -----------------------------------------------------------------------------------


class Budget:
    """Spending and reservations against ``limit`` USD (thread-safe).

    >>> b = Budget(0.01)
    >>> with b.gate() as g:      # first call: no estimate yet, runs alone
    ...     g.settle(0.004)
    >>> with b.gate() as g:
    ...     g.settle(0.004)
    >>> b.spent, b.estimate
    (0.008, 0.004)
    >>> b.gate().__enter__()     # 0.008 + 0.004 > 0.01
    Traceback (most recent call last):
    vibeplot.core.errors.BudgetExceeded: --max-cost $0.0100 would be exceeded: spent $0.0080, next call may cost $0.0040
    """

    def __init__(self, limit: float | None):
        self.limit, self.spent, self.reserved, self.estimate = limit, 0.0, 0.0, None
        self.exceeded = ""
        self._cond = threading.Condition()
        self._in_flight = 0

    def _reserve(self) -> float:
        with self._cond:
            if self.limit is None:
                return 0.0
            while self.estimate is None and self._in_flight > 0:  # no price seen yet: one at a time
                self._cond.wait()
            est = self.estimate or 0.0
            if self.exceeded or self.spent + self.reserved + est > self.limit:
                self.exceeded = self.exceeded or (
                    f"--max-cost ${self.limit:.4f} would be exceeded: spent ${self.spent:.4f}, "
                    f"next call may cost ${est:.4f}")
                raise BudgetExceeded(self.exceeded)
            self.reserved += est
            self._in_flight += 1
            return est

    def _release(self, reserved: float, cost: float | None) -> None:
        with self._cond:
            if self.limit is not None:
                self.reserved -= reserved
                self._in_flight -= 1
            if cost is not None:
                self.spent += cost
                self.estimate = max(self.estimate or 0.0, cost)
            self._cond.notify_all()

    @contextlib.contextmanager
    def gate(self):
        """Around one model call (or one cell): reserve the estimate, then settle the real cost."""
        reserved = self._reserve()
        holder = _Settle()
        try:
            yield holder
        finally:
            self._release(reserved, holder.cost)


class _Settle:
    cost: float | None = None

    def settle(self, cost: float | None) -> None:
        self.cost = cost


def check_prices(models: list[str]) -> None:
    """``--max-cost`` needs a known price for every model (``--price``, the ``prices`` table or litellm's map)."""
    from vibeplot.core.ask.llm import _litellm, user_price

    litellm = _litellm()
    for model in llms(models):
        if user_price(model) is not None:
            continue
        try:
            litellm.cost_per_token(model=model, prompt_tokens=1, completion_tokens=1)
        except Exception:
            raise ConfigError(f"--max-cost cannot be applied: litellm has no price for {model}",
                              hint="give its price with --price MODEL=IN/OUT (USD per million tokens), "
                                   "drop --max-cost, or use models with a known price") from None


# -- one cell ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellSettings:
    """What a cell needs besides its identity (picklable, for Dask workers)."""

    out: str
    api_base: str | None
    max_iterations: int
    timeout: float
    memory_mb: int
    api_key: str | None = field(default=None, repr=False)  # never shown in logs or reprs
    llm_timeout: float = DEFAULT_TIMEOUT
    prices: dict = field(default_factory=dict)  # --price, set in the worker's process too
    formats: tuple[str, ...] = ()  # --format: also PDF/SVG next to each PNG


def _exception_type(stderr: str) -> str:
    for line in reversed(stderr.strip().splitlines()):
        m = re.match(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt))\b", line.strip())
        if m:
            return m.group(1).rsplit(".", 1)[-1]
    return "script-error"


def _error_category(manifest: dict, run_dir: Path) -> str:
    attempts = manifest.get("attempts") or []
    if not attempts:
        return "model-error" if manifest.get("outcome") == "error" else ""
    last = attempts[-1]
    status = last.get("status")
    if status in ("policy", "model-error", "declined", "budget"):
        return status
    run = last.get("run") or {}
    if run.get("timed_out"):
        return "timeout"
    if run.get("memory_exceeded"):
        return "memory"
    if status == "failed":
        stderr = run_dir / f"attempt-{last['n']}" / "stderr.txt"
        return _exception_type(stderr.read_text(errors="replace")) if stderr.is_file() else "script-error"
    return ""


def row_for(cell: Cell, run_dir: Path | None, out: Path, manifest: dict | None = None) -> dict:
    """The results row of a finished cell, from its manifest (read from its ``run.json`` unless given)."""
    if manifest is None:
        manifest = json.loads((run_dir / "run.json").read_text(encoding="utf-8")) if run_dir else {}
    totals = manifest.get("totals") or {}
    outcome = manifest.get("outcome", "error")
    if outcome == "plot":
        verdict = (manifest.get("verdict") or {}).get("status", "unverifiable")
    elif outcome == "declined":
        verdict = "declined"
    else:
        attempts = manifest.get("attempts") or []
        verdict = "policy" if attempts and attempts[-1].get("status") == "policy" else "failed"
    rel = (lambda p: os.path.relpath(p, out))
    cost = totals.get("cost_usd", 0.0)  # RunRecord.totals: None when a call had no known price
    return {
        **asdict(cell),
        "attempts": totals.get("attempts", 0),
        "verdict": verdict,
        "diagnosis": "; ".join((manifest.get("verdict") or {}).get("diagnosis", [])),
        "tokens_in": totals.get("prompt_tokens", 0),
        "tokens_out": totals.get("completion_tokens", 0),
        "cost_usd": None if cost is None else float(cost),
        "llm_seconds": float(totals.get("llm_seconds", 0.0)),
        "script_seconds": float(totals.get("script_seconds", 0.0)),
        "error_category": "" if verdict in ("correct", "wrong", "unverifiable") else
        (_error_category(manifest, run_dir) if run_dir else "model-error"),
        "plots": [rel(run_dir / p) for p in manifest.get("plots", [])] if run_dir else [],
        "run_dir": rel(run_dir) if run_dir else "",
        "price": None,  # set by run_cell
    }


def run_cell(cell: Cell, settings: CellSettings, model_gate: Callable | None = None) -> dict:
    """Run one cell through ``ask`` and write its results row; return the row.

    Raises :class:`BudgetExceeded` (nothing recorded) when the budget stops it.
    """
    from vibeplot.core import questions
    from vibeplot.core.ask.loop import AskOptions, ask
    from vibeplot.core.sandbox.run import Limits

    from vibeplot.core.ask import llm

    llm.set_prices(settings.prices)
    out = Path(settings.out)
    cell_out = out / "runs" / cell.key
    to_llm = not oracle.is_oracle(cell.model)
    opts = AskOptions(
        question=questions.registry()[cell.question].text, stack=cell.stack, model=cell.model,
        api_base=settings.api_base if to_llm else None, api_key=settings.api_key if to_llm else None,
        llm_timeout=settings.llm_timeout,
        max_iterations=settings.max_iterations, out=cell_out, use_cache=False,  # trials are independent
        limits=Limits(timeout=settings.timeout, memory_mb=settings.memory_mb, extra_formats=tuple(settings.formats)),
        model_gate=model_gate, run_slot=RUN_SLOTS,
    )
    category, manifest = "", None
    try:
        result = ask(opts)
        run_dir, manifest = result.run_dir, result.manifest
    except BudgetExceeded:
        raise
    except VibeplotError as err:  # e.g. the model could not be reached: a failed trial, its record kept
        category = "model-error" if isinstance(err, ModelCallError) else f"error: {err}"
        runs = sorted(cell_out.glob("*/run.json"), key=lambda p: p.stat().st_mtime)
        run_dir = runs[-1].parent if runs else None
    row = row_for(cell, run_dir, out, manifest)
    if category:
        row["verdict"], row["error_category"] = "failed", category
    row["price"] = ("" if not to_llm else "user" if llm.user_price(cell.model) is not None
                    else "unknown" if row["cost_usd"] is None else "litellm")
    write_row(out, cell, row)
    return row


def write_row(out: Path, cell: Cell, row: dict) -> Path:
    """Write one trial's row atomically as ``OUT/results/<key>.parquet``."""
    results = Path(out) / "results"
    results.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([row], schema=SCHEMA)
    return atomic_write(results / f"{cell.key}.parquet", lambda tmp: pq.write_table(table, tmp))


def read_row(path: Path) -> dict:
    """The one row of a results file, checked; :class:`ValueError` says what is wrong with it
    (truncated or not Parquet, columns missing, not one row, a verdict outside :data:`VERDICTS`,
    or a row of another cell than the file name says)."""
    try:
        table = pq.read_table(path)
        for name in OPTIONAL_COLUMNS:
            if name not in table.column_names:
                table = table.append_column(name, pa.nulls(table.num_rows, SCHEMA.field(name).type))
        missing = [n for n in SCHEMA.names if n not in table.column_names]
        if not missing:
            table = table.select(SCHEMA.names).cast(SCHEMA)
    except Exception as err:  # pyarrow raises several types for damaged files
        reason = (str(err).strip().splitlines() or [""])[0].replace(f" '{path}'", "")
        raise ValueError(f"unreadable ({type(err).__name__}: {reason})") from None
    if missing:
        raise ValueError(f"columns missing: {', '.join(missing)}")
    if table.num_rows != 1:
        raise ValueError(f"{table.num_rows} rows, expected 1")
    row = table.to_pylist()[0]
    if row["verdict"] not in VERDICTS:
        raise ValueError(f"unknown verdict {row['verdict']!r} (known: {', '.join(VERDICTS)})")
    if any(row[k] is None for k in ("stack", "model", "question", "trial")):
        raise ValueError("stack, model, question or trial missing")
    key = Cell(row["stack"], row["model"], row["question"], row["trial"]).key
    if key != Path(path).stem:
        raise ValueError(f"it holds the row of cell {key}")
    return row


def scan_results(out: Path) -> tuple[list[dict], list[tuple[Path, str]]]:
    """The good rows of ``OUT/results``, and the damaged files with what is wrong with each."""
    results = Path(out) / "results"
    rows, bad = [], []
    for f in sorted(results.glob("*.parquet")) if results.is_dir() else []:
        try:
            rows.append(read_row(f))
        except ValueError as err:
            bad.append((f, str(err)))
    return rows, bad


def damaged_message(out: Path, path: Path, reason: str) -> str:
    return f"{os.path.relpath(path, out)} (cell {Path(path).stem}) is damaged: {reason}"


def _warn(message: str) -> None:
    import sys

    print(f"Warning: {message}", file=sys.stderr)


def load_results(out: Path, warn: Callable[[str], None] | None = _warn) -> pa.Table:
    """All recorded trials of a compare (an empty table if none).  Damaged results files are
    skipped, each with a ``warn`` naming it (see :func:`read_row`)."""
    rows, bad = scan_results(out)
    for path, reason in bad:
        if warn:
            warn(damaged_message(out, path, reason) + "; skipped (rerun the compare with --resume to redo the cell)")
    return pa.Table.from_pylist(rows, schema=SCHEMA)


# -- the whole compare ------------------------------------------------------------------------


def _check(opts: CompareOptions) -> None:
    from vibeplot.core import plugins, questions

    stacks = plugins.stacks()
    for s in opts.stacks:
        if s not in stacks:
            raise ConfigError(f"unknown stack {s!r}", hint=f"installed: {', '.join(sorted(stacks))}")
    for q in opts.questions:
        if q not in questions.registry():
            raise ConfigError(f"unknown question {q!r}", hint="see `vibeplot questions list`")
    if opts.executor != "local" and not opts.executor.startswith("dask://"):
        raise ConfigError(f"unknown executor {opts.executor!r}", hint="use local or dask://HOST:PORT")
    if opts.executor.startswith("dask://"):
        require_extra("dask", "distributed", needed_for="compare --executor dask://...")
    if not opts.models and not opts.baseline:
        raise ConfigError("no models to compare")
    llm_prices(opts)
    if opts.max_cost is not None:
        check_prices(opts.models)
    from vibeplot.core.ask import llm

    for m in llms(opts.models):
        llm.check_credentials(m, api_base=opts.api_base, api_key=opts.api_key)


def llm_prices(opts: CompareOptions) -> None:
    """Apply ``--price`` in this process (the cells set it again, in Dask workers too)."""
    from vibeplot.core.ask import llm

    llm.set_prices(opts.prices)


def _write_spec(opts: CompareOptions) -> None:
    out = Path(opts.out)
    spec = {"questions": opts.questions, "stacks": opts.stacks, "models": opts.models, "trials": opts.trials,
            "baseline": opts.baseline, "max_iterations": opts.max_iterations,
            "prices": {m: list(p) for m, p in opts.prices.items()}}
    path = out / "compare.json"
    if path.is_file() and opts.resume:
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:  # damaged: rewritten from this compare's options
            old = {}
        spec = {k: (sorted(set(old.get(k, [])) | set(v), key=(old.get(k, []) + list(v)).index)
                    if isinstance(v, list) else v) for k, v in spec.items()}
    atomic_write(path, json.dumps(spec, indent=2) + "\n")


def prepare_truth(opts: CompareOptions) -> None:
    """Record each question's truth values once, before cells validate against them."""
    from vibeplot.core.ask import validate
    from vibeplot.core.resolver import ResolveContext, resolve_one
    from vibeplot.core.questions import registry

    for qid in opts.questions:
        q = registry()[qid]
        # a question about several samples: its references read all of them, in the registered order
        found = [resolve_one(p, ResolveContext()) for p in (q.datasets if len(q.datasets) > 1
                                                            else [q.dataset or config.DEFAULT_DATASET_PHRASE])]
        for ds in found:
            if ds.prepare:
                ds.prepare()
        location = found[0].location if len(found) == 1 else [ds.location for ds in found]
        validate.truth_values_for(qid, location, found[0].format)
        validate.mistake_values_for(qid, location, found[0].format)


def run_compare(opts: CompareOptions, progress: Progress | None = None,
                on_update: Callable[[Progress], None] = lambda p: None,
                warn: Callable[[str], None] = _warn) -> CompareResult:
    """Run every missing cell of the compare; see the module docstring.  A damaged results
    file (:func:`read_row`) is reported through ``warn`` and its cell run again on resume."""
    from vibeplot.core.files import check_writable_dir

    _check(opts)
    out = Path(opts.out)
    check_writable_dir(out)
    if (out / "results").is_dir() and any((out / "results").glob("*.parquet")) and not opts.resume:
        raise ConfigError(f"{out} already holds compare results",
                          hint="add --resume to run only what is missing, or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    _write_spec(opts)
    cells = plan(opts)
    rows, bad = scan_results(out)
    done = {Cell(r["stack"], r["model"], r["question"], r["trial"]).key for r in rows}
    planned = {c.key for c in cells}
    for path, reason in bad:
        warn(damaged_message(out, path, reason)
             + ("; running the cell again" if path.stem in planned else "; not in this compare, skipped"))
    todo = [c for c in cells if c.key not in done]
    progress = progress or Progress(total=len(cells))
    progress.total, progress.skipped, progress.done = len(cells), len(cells) - len(todo), len(cells) - len(todo)
    on_update(progress)
    prepare_truth(opts)
    settings = CellSettings(str(out.resolve()), opts.api_base, opts.max_iterations, opts.timeout, opts.memory_mb,
                            api_key=opts.api_key, llm_timeout=opts.llm_timeout, prices=dict(opts.prices),
                            formats=tuple(opts.formats))
    budget = Budget(opts.max_cost)
    if opts.executor.startswith("dask://"):
        stopped = _run_dask(opts.executor, todo, settings, budget, opts.jobs, progress, on_update)
    elif opts.executor == "local":
        from vibeplot.core.servicex.local.launcher import shared_backend

        from vibeplot.core.sandbox.warm import workers

        with shared_backend(out / SERVICEX_LOG), workers(opts.warm):  # backend: started by the first cell that needs it
            stopped = _run_local(todo, settings, budget, opts.jobs, progress, on_update)
    else:
        raise ConfigError(f"unknown executor {opts.executor!r}", hint="use local or dask://HOST:PORT")
    from vibeplot.core.bench import report

    report.write_summary(out, report.summary_of(out, warn=lambda m: None))  # OUT/summary.json
    return CompareResult(out, len(cells), progress.done - progress.skipped, progress.skipped, stopped, budget.spent)


def _count(progress: Progress, row: dict | None, on_update) -> None:
    with progress.lock:
        progress.running -= 1
        if row is not None:
            progress.done += 1
            progress.failed += row["verdict"] in ("failed", "policy", "declined")
            progress.cost += row["cost_usd"] or 0.0
    on_update(progress)


def _run_local(todo, settings, budget: Budget, jobs: int, progress: Progress, on_update) -> str:
    stop = threading.Event()

    def one(cell: Cell):
        if stop.is_set():
            return None
        with progress.lock:
            progress.running += 1
        on_update(progress)
        row = None
        try:
            row = run_cell(cell, settings, budget.gate)
        except BudgetExceeded:
            stop.set()
        finally:
            _count(progress, row, on_update)
        return row

    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="vibeplot-cell")
    futures: list[Future] = [pool.submit(one, c) for c in todo]
    try:
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for f in finished:
                f.result()  # a bug in a cell surfaces here rather than vanishing
    except KeyboardInterrupt:
        stop.set()
        for f in futures:
            f.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return budget.exceeded


def _run_dask(address: str, todo, settings, budget: Budget, jobs: int, progress: Progress, on_update) -> str:
    from distributed import Client, as_completed  # present: checked with the options
    client = Client(address.replace("dask://", "tcp://", 1), timeout="20s")
    queue = list(todo)
    running: dict = {}  # future -> (cell, budget gate context)
    try:
        ac = as_completed()

        def submit_next() -> bool:
            if not queue or budget.exceeded:
                return False
            gate = budget.gate()  # per cell on Dask: the estimate is the costliest finished cell
            try:
                holder = gate.__enter__()
            except BudgetExceeded:
                return False
            cell = queue.pop(0)
            future = client.submit(run_cell, cell, settings, pure=False, key=f"vibeplot-{cell.key}-{time.time_ns()}")
            running[future] = (cell, gate, holder)
            with progress.lock:
                progress.running += 1
            on_update(progress)
            ac.add(future)
            return True

        while len(running) < jobs and submit_next():
            pass
        for future in ac:
            cell, gate, holder = running.pop(future)
            row = None
            try:
                row = future.result()
                holder.settle(row["cost_usd"])
            finally:
                gate.__exit__(None, None, None)
                _count(progress, row, on_update)
            while len(running) < jobs and submit_next():
                pass
    finally:
        client.close()
    return budget.exceeded
