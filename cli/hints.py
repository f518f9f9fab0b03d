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
@click.option("--dataset", "-d", multiple=True,
              help="A local ROOT file or dataset phrase, repeatable for several samples (default: the datasets the "
                   "question names, else the embedded sample).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: stack, question, datasets and the prompt's messages (role, content).")
@click.argument("question", nargs=-1)
def show(stack, dataset, question, as_json):
    """Print the exact first prompt that would be sent for QUESTION.

    Needs nothing that running needs: a rucio dataset is shown without a servicex.yaml."""
    from vibeplot.core import plugins
    from vibeplot.core.ask import prompt
    from vibeplot.core.ask.loop import AskOptions, choose_datasets, prompt_question, read_question

    text = " ".join(question) or "Plot the missing transverse energy of all events."
    stack = plugins.stack_setting(stack)
    st = plugins.get_stack(stack)
    reading = read_question(text)
    given = (dataset[0] if len(dataset) == 1 else list(dataset)) if dataset else None
    found, _ = choose_datasets(AskOptions(question=text, stack=stack, dataset=given), st, reading=reading, check=False)
    shown = found if len(found) > 1 else found[0]  # several: one dataset section each
    first = prompt.first_prompt(st, shown, prompt_question(text, reading))
    if as_json:
        import json

        click.echo(json.dumps({"stack": stack, "question": text, "datasets": [ds.name for ds in found],
                               "messages": first.messages}))
    else:
        click.echo(first.text, nl=False)
