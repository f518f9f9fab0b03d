"""``vibeplot chat``: a terminal conversation, each request after the first a follow-up (``ask --continue``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from vibeplot.core import config

#: lines that end the conversation (as does end of input)
QUIT = ("exit", "quit", ":q")


@click.command()
@click.option("--stack", "-s", default=None, help="Analysis stack. [default: the first run's setting; then the previous run's]")
@click.option("--model", "-m", default=None, help="litellm model string, or `reference`. Default: as for `ask`, then the previous run's.")
@click.option("--api-base", default=None, help="Base URL of an OpenAI-compatible or local model server.")
@click.option("--api-key", default=None, help="Key for the model server (as for `ask`).")
@click.option("--dataset", "-d", default=None, help="The first request's dataset (as `ask --dataset`); later ones keep it.")
@click.option("--max-iterations", "-n", type=click.IntRange(1, 20), default=None, help="Attempts per request.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=f"Where run directories go. [default: ./{config.DEFAULT_OUT}]")
@click.option("--no-cache", is_flag=True, help="Do not use the on-disk LLM response cache.")
@click.option("--continue", "-c", "start", default=None, metavar="RUN",
              help="Start by following up this run (a run directory, or its name under --out).")
@click.pass_context
def chat(ctx, stack, model, api_base, api_key, dataset, max_iterations, out, no_cache, start):
    """A conversation in the terminal: type a request, get a plot; each later line follows up the
    previous run (its question, script and results go into the prompt, as with `ask --continue`).
    An empty line is skipped; `exit`, `quit` or end of input (Ctrl-D) ends it.
    """
    from vibeplot.core.ask.history import locate
    from vibeplot.core.errors import VibeplotError

    from . import ask as ask_command

    out = out or Path(config.setting("out", None, config.DEFAULT_OUT))
    parent = locate(start, out).resolve() if start else None
    common = dict(stack=stack, model=model, api_base=api_base, api_key=api_key, max_iterations=max_iterations,
                  out=out, no_cache=no_cache)
    click.echo("Ask for a plot; later lines follow up the last run. `exit` or Ctrl-D to stop.", err=True)
    while True:
        click.echo("vibeplot> ", err=True, nl=False)
        line = sys.stdin.readline()
        if not line or line.strip().lower() in QUIT:
            break
        line = line.strip()
        if not line:
            continue
        before = set(out.iterdir()) if out.is_dir() else set()
        words = (str(parent), line) if parent is not None else (line,)
        try:
            ctx.invoke(ask_command.ask, question=words, continue_=parent is not None,
                       dataset=(dataset,) if dataset and parent is None else (), **common)
        except SystemExit as done:  # no plot (or --strict): the next line can ask for a fix
            if done.code not in (0, None, 1):
                raise
        except VibeplotError as err:  # bad input for this request: say so, keep the conversation
            click.secho(f"Error: {err}", fg="red", err=True)
            if err.hint:
                click.echo(f"  {err.hint}", err=True)
        made = sorted(p for p in (set(out.iterdir()) if out.is_dir() else set()) - before if (p / "run.json").is_file())
        if len(made) == 1:
            parent = made[0].resolve()
