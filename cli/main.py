"""Entry point of the ``vibeplot`` command."""

from __future__ import annotations

import sys

import click

from . import ask, chat, compare, config, datasets, doctor, hints, questions, rerun, runs, servicex, stacks, validate
from . import mcp


class VibeplotGroup(click.Group):
    """Turns vibeplot's own errors into one clear line and a documented exit code."""

    def invoke(self, ctx):
        from vibeplot.core.errors import EXIT_INTERRUPTED, Terminated, VibeplotError

        try:
            return super().invoke(ctx)
        except VibeplotError as err:
            click.secho(f"Error: {err}", fg="red", err=True)
            if err.hint:
                click.echo(f"  {err.hint}", err=True)
            ctx.exit(err.exit_code)
        except KeyboardInterrupt as err:  # Ctrl-C, SIGTERM, SIGHUP
            click.echo(f"Interrupted ({err.message})." if isinstance(err, Terminated) else "Interrupted.", err=True)
            ctx.exit(err.exit_code if isinstance(err, Terminated) else EXIT_INTERRUPTED)


@click.group(cls=VibeplotGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vibeplot")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages and no summary on stderr (errors still show).")
@click.option("--verbose", "-v", is_flag=True, help="Every progress message on its own stderr line, not a spinner.")
def cli(quiet, verbose):
    """Ask for a HEP plot in English; get analysis code that ran and its PNG.

    \b
    Exit codes: 0 a plot was made, 1 no plot after all attempts (or the model
    declined; with ask --strict also a wrong or unverifiable verdict), 2 usage or
    configuration error, 130 interrupted (143 SIGTERM, 129 SIGHUP).
    """
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose exclude each other")
    click.get_current_context().meta["vibeplot.verbosity"] = -1 if quiet else 1 if verbose else 0


cli.add_command(ask.ask)
cli.add_command(stacks.stacks)
cli.add_command(hints.hints)
cli.add_command(datasets.datasets)
cli.add_command(questions.questions)
cli.add_command(servicex.servicex)
cli.add_command(validate.validate)
cli.add_command(runs.runs)
cli.add_command(rerun.rerun)
cli.add_command(chat.chat)
cli.add_command(doctor.doctor)
cli.add_command(config.config_command)
cli.add_command(compare.compare)
cli.add_command(compare.report_command)
cli.add_command(mcp.mcp)


def main() -> None:
    from vibeplot.core import plugins
    from vibeplot.core.errors import raise_on_termination

    raise_on_termination()
    try:
        plugins.add_commands(cli)
    except Exception as err:  # a broken third-party plugin must not take the CLI down
        click.secho(f"Warning: a plugin failed to add its commands: {err}", fg="yellow", err=True)
    sys.exit(cli.main(standalone_mode=True))
