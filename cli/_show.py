"""Rich output shared by the commands: live status and run summaries."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console(stderr=True)


def run_with_status(opts):
    import dataclasses

    from vibeplot.core.ask.loop import ask

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
        return ask(opts, status=lambda message: status.update(message))


def _fmt_cost(cost) -> str:
    return "unknown" if cost is None else f"${cost:.4f}"


def summary(result) -> None:
    m = result.manifest
    totals = m.get("totals", {})
    style = {"plot": "green", "declined": "yellow"}.get(result.outcome, "red")
    table = Table(show_header=False, box=None, pad_edge=False)
    # the message may quote the model or a server (a decline, an error): text, never markup
    table.add_row("outcome", f"[{style}]{result.outcome}[/]: {escape(result.message)}")
    for plot in result.plots:
        table.add_row("plot", escape(str(plot)))
    verdict = m.get("verdict")
    if verdict:
        vstyle = {"correct": "green", "wrong": "red"}.get(verdict["status"], "yellow")
        table.add_row("verdict", f"[{vstyle}]{verdict['status']}[/]" +
                      (": " + "; ".join(verdict["diagnosis"]) if verdict["diagnosis"] else ""))
    table.add_row("run", escape(str(result.run_dir)))
    table.add_row("stack / model", f"{m['stack']} / {m['model']}")
    table.add_row("dataset", f"{m['dataset']['name']} ({m['dataset_resolution']['why']})")
    table.add_row("attempts", str(totals.get("attempts")))
    table.add_row("tokens", f"{totals.get('prompt_tokens', 0)} in / {totals.get('completion_tokens', 0)} out")
    table.add_row("cost", _fmt_cost(totals.get("cost_usd")))
    table.add_row("time", f"model {totals.get('llm_seconds', 0):.1f} s, scripts {totals.get('script_seconds', 0):.1f} s")
    console.print(table)
    # The plot paths also go to stdout, one per line, for scripts.
    for plot in result.plots:
        print(plot.resolve())
