"""A third-party stack as small as it gets: numpy + matplotlib only, one hint brick of vibeplot's."""

from vibeplot.core import policies
from vibeplot.core.hookspecs import hookimpl
from vibeplot.core.stack import Stack

PROMPT = """You write a Python script with numpy and matplotlib only.
Save the plot with savefig. If the request is not a plot request, reply `DECLINE: <reason>`."""


def _advice(failure):
    return ["toy advice: numpy only"] if "ModuleNotFoundError" in failure.stderr else []


@hookimpl
def register_stacks(register):
    register(Stack(
        name="toy",
        description="numpy + matplotlib toy stack (test plugin)",
        prompt_template=PROMPT,
        hint_bricks=["hist_mplhep"],
        policies=list(policies.BASIC),
        explainers=[_advice],
        formats=("flat-ntuple", "root-file"),
    ))


@hookimpl
def register_commands(cli):
    import click

    @cli.command("toy-hello")
    def toy_hello():
        """Say hello (a command added by a plugin)."""
        click.echo("hello from the toy plugin")
