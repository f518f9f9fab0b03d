"""``vibeplot hints``: see exactly what the model is told."""

from __future__ import annotations

import click

from vibeplot.core import config


@click.group()
def hints():
    """Show the prompts and hint bricks of a stack."""


@hints.command("show")
@click.option("--stack", "-s", default=None,
              help=f"Analysis stack. Default: $VIBEPLOT_STACK, the config file, or the default stack (uproot_opendata).")
@click.option("--dataset", "-d", default=None, help="A local ROOT file or dataset phrase (default: the embedded sample).")
@click.argument("question", nargs=-1)
def show(stack, dataset, question):
    """Print the exact first prompt that would be sent for QUESTION.

    Needs nothing that running needs: a rucio dataset is shown without a servicex.yaml."""
    from vibeplot.core import plugins
    from vibeplot.core.ask import prompt
    from vibeplot.core.ask.loop import AskOptions, choose_dataset, prompt_question, read_question

    text = " ".join(question) or "Plot the missing transverse energy of all events."
    stack = plugins.stack_setting(stack)
    st = plugins.get_stack(stack)
    reading = read_question(text)
    ds, _ = choose_dataset(AskOptions(question=text, stack=stack, dataset=dataset), st, reading=reading, check=False)
    click.echo(prompt.first_prompt(st, ds, prompt_question(text, reading)).text, nl=False)
