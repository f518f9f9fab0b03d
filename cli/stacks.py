"""``vibeplot stacks``: what is installed."""

from __future__ import annotations

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of the stacks.")
def stacks(as_json):
    """List every registered stack, its source package and hint bricks."""
    from vibeplot.core import plugins

    if as_json:
        import json

        click.echo(json.dumps([
            {"name": name, "source": stack.source, "description": stack.description,
             "hint_bricks": list(stack.hint_bricks), "format_bricks": {k: list(v) for k, v in stack.format_bricks.items()},
             "formats": list(stack.formats or ())}
            for name, stack in sorted(plugins.stacks().items())], indent=2))
        return
    for name, stack in sorted(plugins.stacks().items()):
        click.echo(click.style(name, bold=True) + f"  ({stack.source})")
        click.echo(f"  {stack.description}")
        click.echo(f"  hint bricks: {', '.join(stack.hint_bricks)}")
        if stack.format_bricks:
            extra = "; ".join(f"{fmt}: {', '.join(b)}" for fmt, b in stack.format_bricks.items())
            click.echo(f"  by dataset format: {extra}")
        if stack.formats:
            click.echo(f"  reads: {', '.join(stack.formats)}")
