"""``vibeplot mcp``: vibeplot's bricks as tools of an MCP server over stdio (the ``mcp`` extra)."""

from __future__ import annotations

from pathlib import Path

import click

from vibeplot.core import config


@click.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=f"Where the run directories of run_code and ask go. [default: ./{config.DEFAULT_OUT}]")
@click.option("--timeout", type=click.FloatRange(1), default=config.DEFAULT_SCRIPT_TIMEOUT, show_default=True,
              help="Wall-clock seconds per script run.")
@click.option("--memory-mb", type=click.IntRange(64), default=config.DEFAULT_MEMORY_MB, show_default=True,
              help="Resident memory cap per script run.")
@click.option("--isolation", type=click.Choice(["auto", "required", "none"]), default=None,
              help="Sandbox for the scripts, as for ask. Default: $VIBEPLOT_ISOLATION, the config file, or auto.")
@click.option("--format", "formats", default=None, metavar="png[,pdf][,svg]",
              help="Also save each plot as PDF and/or SVG next to its PNG, as ask --format. "
                   "Default: $VIBEPLOT_FORMAT, the config file, or png.")
@click.option("--warm/--no-warm", default=None,
              help="Run scripts in warm workers (the scientific stack imported once; same sandbox and limits), "
                   "as ask --warm. Setting: warm_workers. [default: no]")
def mcp(out, timeout, memory_mb, isolation, formats, warm):
    """Serve vibeplot's tools to an MCP client (a coding agent) over stdio.

    \b
    Tools: list_stacks, list_questions, resolve_dataset, get_prompt, run_code,
    validate, ask (see the README).  stdout is the protocol channel; messages go
    to stderr.  The limits and isolation options apply to every script; a client
    cannot change them.  Exit code 2: the 'mcp' extra is not installed, or a bad option.
    """
    from vibeplot.core.errors import require_extra

    require_extra("mcp", "mcp", needed_for="vibeplot mcp")
    from vibeplot.core.ask.mcp_server import Settings, serve
    from vibeplot.core.files import check_writable_dir
    from vibeplot.core.sandbox.isolation import choose, mode
    from vibeplot.core.sandbox import warm as warm_workers
    from vibeplot.core.sandbox.run import Limits

    out = out or Path(config.setting("out", None, config.DEFAULT_OUT))
    check_writable_dir(out)
    # a bad setting (isolation, format, warm_workers): exit 2 before serving
    limits = Limits(timeout=timeout, memory_mb=memory_mb, isolation=mode(isolation),
                    extra_formats=config.formats_setting(formats))
    choose(limits.isolation)  # "required" and not available: exit 2 before serving
    with warm_workers.workers(config.flag_setting("warm_workers", warm, False)):
        serve(Settings(out=out, limits=limits))
