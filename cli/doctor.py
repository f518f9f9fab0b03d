"""``vibeplot doctor``: what this machine gives generated code (isolation) and the stacks."""

from __future__ import annotations

import click


@click.command()
def doctor():
    """Say whether generated scripts are isolated here, and how to get isolation if not.

    \b
    Exit codes: 0 ready, 2 isolation is required (--isolation / VIBEPLOT_ISOLATION / config)
    but not available.
    """
    from vibeplot.core.sandbox import isolation
    from vibeplot.core.errors import EXIT_USAGE

    mode = isolation.mode()
    status = isolation.probe()
    click.echo(f"isolation mode: {mode}")
    if status.available:
        network = "no network unless the stack needs it (ServiceX, remote files)"
        click.echo(f"isolation: bubblewrap ({status.detail}): scripts see a read-only file system, an empty "
                   f"home, only their own processes, and {network}; they write only their attempt directory")
    else:
        click.echo(f"isolation: none ({status.detail}): generated code runs with your permissions")
        click.echo(f"  to isolate it, {isolation.HOW_TO_GET_IT}")
        if mode == "required":
            raise SystemExit(EXIT_USAGE)
