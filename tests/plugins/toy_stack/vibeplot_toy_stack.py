"""A third-party stack as small as it gets: numpy + matplotlib (uproot only reads the file), one
hint brick of vibeplot's, two reference solutions (``references/``, named after question ids).

It passes vibeplot's stack contract (``tests/test_toy_stack_contract.py``)::

    from vibeplot.testing import check_stack
    check_stack("toy")
"""

from pathlib import Path

from vibeplot.core import policies
from vibeplot.core.hookspecs import hookimpl
from vibeplot.core.stack import Stack

PROMPT = """You write a Python script with numpy and matplotlib only; read ROOT files with
uproot, as numpy arrays (`library="np"`).
Save the plot with savefig. If the request is not a plot request, reply `DECLINE: <reason>`."""


def _advice(failure):
    return ["toy advice: numpy only"] if "ModuleNotFoundError" in failure.stderr else []


# failures the explainer is written for (stderr texts): the stack contract checks it advises on them
_advice.examples = ["Traceback (most recent call last):\nModuleNotFoundError: No module named 'awkward'"]


@hookimpl
def register_stacks(register):
    register(Stack(
        name="toy",
        description="numpy + matplotlib toy stack (test plugin)",
        prompt_template=PROMPT,
        hint_bricks=["hist_mplhep"],
        policies=list(policies.BASIC),
        explainers=[_advice],
        references_dir=Path(__file__).parent / "references",
        formats=("flat-ntuple", "root-file"),
    ))


@hookimpl
def register_commands(cli):
    import click

    @cli.command("toy-hello")
    def toy_hello():
        """Say hello (a command added by a plugin)."""
        click.echo("hello from the toy plugin")


# A dataset resolver of the plugin's own: one extra dataset, found by phrase through the
# plugin's entry point like vibeplot's built-in catalog.
TOY_PHRASES = ("toy plugin sample", "toy dataset")


def _toy_dataset():
    from vibeplot.core.resolver import Dataset

    return Dataset(
        name="toy-plugin-sample",
        title="a dataset added by the toy plugin (test only)",
        location="/nonexistent/toy-plugin-sample.root",
        format="flat-ntuple",
        tree="Events",
        experiment="toy",
        prompt_notes="- A test dataset; it does not exist on disk.\n",
        metadata={"kind": "simulation", "process": "nothing (test plugin)", "sources": ["the toy plugin"]},
    )


def resolve_toy(phrase, context):
    from vibeplot.core.resolver import Candidate, normalise_phrase, phrase_score

    wanted = normalise_phrase(phrase)
    best, exact = max(phrase_score(wanted, normalise_phrase(p)) for p in (*TOY_PHRASES, "toy-plugin-sample"))
    return [Candidate(_toy_dataset(), best, "toy plugin phrase", exact=exact)] if best >= 0.5 else []


resolve_toy.phrases = lambda: [*TOY_PHRASES, "toy-plugin-sample"]


@hookimpl
def register_dataset_resolvers(register):
    register(resolve_toy)
