"""Rich output shared by the commands: live status and run summaries."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console(stderr=True)


def verbosity() -> int:
    """-1 with ``vibeplot -q`` (no progress, no summary), 1 with ``-v`` (each progress message on its
    own line), else 0 (a spinner)."""
    import click

    ctx = click.get_current_context(silent=True)
    return ctx.find_root().meta.get("vibeplot.verbosity", 0) if ctx else 0


def run_with_status(opts, run=None):
    """``run(opts, status=...)`` (default: the ask loop) with progress as ``-q``/``-v`` ask: a spinner, one
    line per message, or nothing; an interactive dataset choice stops the spinner while it asks."""
    import dataclasses

    if run is None:
        from vibeplot.core.ask.loop import ask as run

    level = verbosity()
    if level != 0:  # quiet: nothing; verbose: one stderr line per progress message
        report = (lambda message: console.print(escape(message), highlight=False)) if level > 0 else (lambda _: None)
        return run(opts, status=report)
    with console.status("starting") as status:
        if opts.choose is not None:  # an interactive question must not share the line with the spinner
            ask_user = opts.choose

            def choose(phrase, candidates):
                status.stop()
                try:
                    return ask_user(phrase, candidates)
                finally:
                    status.start()

            opts = dataclasses.replace(opts, choose=choose)
        return run(opts, status=lambda message: status.update(message))


def _fmt_cost(cost) -> str:
    return "unknown" if cost is None else f"${cost:.4f}"


def summary_record(result) -> dict:
    """The run's summary as one JSON-ready object (``vibeplot ask --json``)."""
    m = result.manifest
    totals = m.get("totals", {})
    verdict = m.get("verdict") or {}
    return {
        "outcome": result.outcome,
        "message": result.message,
        "verdict": verdict.get("status"),
        "diagnosis": verdict.get("diagnosis", []),
        "run": str(Path(result.run_dir).resolve()),
        "plots": [str(Path(p).resolve()) for p in result.plots],
        "question": m.get("question"),
        "stack": m.get("stack"),
        "model": m.get("model"),
        "dataset": (m.get("dataset") or {}).get("name"),
        "datasets": [d.get("name") for d in m.get("datasets") or ([m["dataset"]] if m.get("dataset") else [])],
        "attempts": totals.get("attempts"),
        "prompt_tokens": totals.get("prompt_tokens"),
        "completion_tokens": totals.get("completion_tokens"),
        "cost_usd": totals.get("cost_usd"),
        "llm_seconds": totals.get("llm_seconds"),
        "script_seconds": totals.get("script_seconds"),
        "parent_run": m.get("parent_run"),  # ask --continue
        "rerun_of": m.get("rerun_of"),  # vibeplot rerun
    }


def summary(result, as_json: bool = False) -> None:
    """The rich summary on stderr (not with ``-q``); on stdout the plot paths, one per line, or with
    ``as_json`` :func:`summary_record` as one JSON object."""
    if verbosity() >= 0:
        _summary_table(result)
    if as_json:
        import json

        print(json.dumps(summary_record(result)))
    else:  # the plot paths go to stdout, one per line, for scripts
        for plot in result.plots:
            print(plot.resolve())


def _summary_table(result) -> None:
    m = result.manifest
    totals = m.get("totals", {})
    style = {"plot": "green", "declined": "yellow"}.get(result.outcome, "red")
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")  # paths wrap, never cut with an ellipsis
    # the message may quote the model or a server (a decline, an error): text, never markup
    table.add_row("outcome", f"[{style}]{result.outcome}[/]: {escape(result.message)}")
    for plot in result.plots:
        table.add_row("plot", escape(str(plot)))
    verdict = m.get("verdict")
    if verdict:
        vstyle = {"correct": "green", "wrong": "red"}.get(verdict["status"], "yellow")
        table.add_row("verdict", f"[{vstyle}]{verdict['status']}[/]" +
                      (": " + "; ".join(verdict["diagnosis"]) if verdict["diagnosis"] else ""))
        for note in verdict.get("notes", []):
            table.add_row("note", escape(note))
    table.add_row("run", escape(str(result.run_dir)))
    table.add_row("stack / model", f"{m['stack']} / {m['model']}")
    several = m.get("datasets") or []
    if len(several) > 1:  # a question about several samples: each, and how it was chosen
        for d, how in zip(several, m.get("dataset_resolutions") or []):
            table.add_row("dataset", f"{d['name']} ({how['why']})")
    else:
        table.add_row("dataset", f"{m['dataset']['name']} ({m['dataset_resolution']['why']})")
    table.add_row("attempts", str(totals.get("attempts")))
    table.add_row("tokens", f"{totals.get('prompt_tokens', 0)} in / {totals.get('completion_tokens', 0)} out")
    table.add_row("cost", _fmt_cost(totals.get("cost_usd")))
    table.add_row("time", f"model {totals.get('llm_seconds', 0):.1f} s, scripts {totals.get('script_seconds', 0):.1f} s")
    console.print(table)
