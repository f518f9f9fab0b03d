"""``vibeplot runs``: past runs, read from their run directories."""

from __future__ import annotations

import json
from pathlib import Path

import click

from vibeplot.core import config

_OUT = click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
                    help=f"Where the run directories are. [default: the out setting, ./{config.DEFAULT_OUT}]")


def _out(out) -> Path:
    return out or Path(config.setting("out", None, config.DEFAULT_OUT))


def _cost(cost) -> str:
    return "unknown" if cost is None else f"${cost:.4f}"


@click.group(invoke_without_command=True)
@_OUT
@click.option("--stack", "-s", default=None, help="Only runs of this stack.")
@click.option("--verdict", default=None, help="Only runs with this verdict (correct, wrong, unverifiable, none).")
@click.option("--since", default=None, help="Only runs started since a date (2026-12-01) or for a duration (2d, 12h).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of runs.")
@click.pass_context
def runs(ctx, out, stack, verdict, since, as_json):
    """List past runs, newest first: time, question, stack, model, outcome, verdict, cost, the run a
    follow-up or re-run came from, path."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from vibeplot.core.ask.history import find_runs, follows, parse_since

    found = find_runs(_out(out), stack=stack, verdict=verdict, since=parse_since(since) if since else None)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    console = Console() if Console().is_terminal else Console(width=250)  # piped: nothing squeezed
    table = Table()
    for title in ("started", "question", "stack", "model", "outcome", "verdict", "cost"):
        table.add_column(title, max_width=40 if title == "question" else None, overflow="ellipsis", no_wrap=True)
    chained = any(follows(r) for r in found)
    if chained:  # follow-ups and re-runs name the run they came from
        table.add_column("follows", max_width=40, overflow="ellipsis", no_wrap=True)
    table.add_column("path", overflow="fold")  # never cut
    for r in found:
        table.add_row(*(escape(str(v)) for v in (r["started"], r["question"], r["stack"], r["model"], r["outcome"],
                                                  r["verdict"], _cost(r["cost_usd"]),
                                                  *([follows(r)] if chained else []), r["path"])))
    console.print(table)
    click.echo(f"{len(found)} run(s); `vibeplot runs show RUN` for one.")


@runs.command("show")
@click.argument("run")
@_OUT
@click.option("--json", "as_json", is_flag=True, help="Print the run's summary and its totals as JSON.")
@click.pass_context
def show(ctx, run, out, as_json):
    """One run's summary; RUN is its directory, or its name (or a unique prefix) under --out."""
    from vibeplot.core.ask.history import locate, read_run, summarise

    path = locate(run, _out(out or ctx.parent.params.get("out")))  # `runs --out DIR show RUN` too
    manifest = read_run(path)
    info = summarise(manifest, path)
    verdict = manifest.get("verdict") or {}
    info.update(message=manifest.get("message"), finished=manifest.get("finished"), plots=manifest.get("plots", []),
                diagnosis=verdict.get("diagnosis", []), totals=manifest.get("totals", {}))
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    for key in ("path", "question", "started", "finished", "stack", "model", "dataset", "outcome", "message",
                "verdict", "attempts"):
        click.echo(f"{key:10} {info[key]}")
    for key in ("parent_run", "rerun_of"):
        if info[key]:
            click.echo(f"{key:10} {info[key]}")
    for line in info["diagnosis"]:
        click.echo(f"{'':10} {line}")
    for plot in info["plots"]:
        click.echo(f"{'plot':10} {Path(info['path']) / plot}")
    totals = info["totals"]
    if totals:
        click.echo(f"{'tokens':10} {totals.get('prompt_tokens', 0)} in / {totals.get('completion_tokens', 0)} out")
        click.echo(f"{'cost':10} {_cost(totals.get('cost_usd'))}")
        click.echo(f"{'time':10} model {totals.get('llm_seconds', 0):.1f} s, "
                   f"scripts {totals.get('script_seconds', 0):.1f} s")
