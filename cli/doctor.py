"""``vibeplot doctor``: what this machine gives generated code (isolation) and the stacks."""

from __future__ import annotations

import click


@click.command()
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: isolation mode and status, bytecode, extras.")
def doctor(as_json):
    """Say whether generated scripts are isolated here (and how to get isolation if not), and whether
    the packages they import have bytecode installed.

    \b
    Exit codes: 0 ready, 2 isolation is required (--isolation / VIBEPLOT_ISOLATION / config)
    but not available.
    """
    from vibeplot.core.sandbox import isolation
    from vibeplot.core.errors import EXIT_USAGE

    mode = isolation.mode()
    status = isolation.probe()
    from vibeplot.core.errors import EXTRA_MODULES, missing_modules
    from vibeplot.core.sandbox.run import missing_bytecode

    missing = missing_bytecode()
    if as_json:
        import json

        click.echo(json.dumps({
            "isolation_mode": mode,
            "isolation": "bubblewrap" if status.available else "none",
            "isolation_detail": status.detail,
            "bytecode_missing": missing,
            "extras": {extra: not missing_modules(*modules) for extra, modules in EXTRA_MODULES.items()},
        }))
        if mode == "required" and not status.available:
            raise SystemExit(EXIT_USAGE)
        return
    click.echo(f"isolation mode: {mode}")
    if missing:
        click.echo(f"bytecode: none installed for {', '.join(missing)}: scripts cannot write .pyc files, so "
                   "every attempt compiles these again (seconds each); reinstall with bytecode "
                   "(pip does by default; uv: `uv sync --compile-bytecode` or UV_COMPILE_BYTECODE=1)")
    else:
        click.echo("bytecode: installed (scripts start without compiling their imports)")
    click.echo("extras: " + ", ".join(f"{extra} {'missing' if missing_modules(*modules) else 'installed'}"
                                      for extra, modules in EXTRA_MODULES.items()))
    if status.available:
        network = "no network unless the stack needs it (ServiceX, remote files)"
        click.echo(f"isolation: bubblewrap ({status.detail}): scripts see a read-only file system, an empty "
                   f"home, only their own processes, and {network}; they write only their attempt directory")
    else:
        click.echo(f"isolation: none ({status.detail}): generated code runs with your permissions")
        click.echo(f"  to isolate it, {isolation.HOW_TO_GET_IT}")
        if mode == "required":
            raise SystemExit(EXIT_USAGE)
