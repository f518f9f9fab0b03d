"""``vibeplot stacks``: what is installed."""

from __future__ import annotations

import click


@click.command()
def stacks():
    """List every registered stack, its source package and hint bricks."""
    from rich.table import Table

    from vibeplot.core import plugins

    from ._show import console

    table = Table("stack", "package", "hint bricks", "reads", "description")
    for name, stack in sorted(plugins.stacks().items()):
        table.add_row(name, stack.source, ", ".join(stack.hint_bricks), ", ".join(stack.formats), stack.description)
    console.print(table)
