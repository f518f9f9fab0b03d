"""``vibeplot stacks``: what is installed."""

from __future__ import annotations

import click


@click.command()
def stacks():
    """List every registered stack, its source package and hint bricks."""
    from vibeplot.core import plugins

    for name, stack in sorted(plugins.stacks().items()):
        click.echo(click.style(name, bold=True) + f"  ({stack.source})")
        click.echo(f"  {stack.description}")
        click.echo(f"  hint bricks: {', '.join(stack.hint_bricks)}")
        if stack.format_bricks:
            extra = "; ".join(f"{fmt}: {', '.join(b)}" for fmt, b in stack.format_bricks.items())
            click.echo(f"  by dataset format: {extra}")
        if stack.formats:
            click.echo(f"  reads: {', '.join(stack.formats)}")
