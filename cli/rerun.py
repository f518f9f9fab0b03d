"""``vibeplot rerun``: a run's final script again, without the model, on another dataset or more files."""

from __future__ import annotations

from pathlib import Path

import click

from vibeplot.core import config


@click.command()
@click.argument("run")
@click.option("--dataset", "-d", default=None,
              help="Another dataset: a local ROOT file, a file URL or a dataset phrase (as `ask --dataset`); it "
                   "replaces the script's INPUT_FILE. Default: the run's own.")
@click.option("--nfiles", type=click.IntRange(1), default=None,
              help="Files ServiceX reads: replaces NFiles in each Sample(...) of a ServiceX script.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=f"Where the new run directory goes (and where RUN is looked up by name). [default: ./{config.DEFAULT_OUT}]")
@click.option("--timeout", type=click.FloatRange(1), default=config.DEFAULT_SCRIPT_TIMEOUT, show_default=True,
              help="Wall-clock seconds for the script.")
@click.option("--memory-mb", type=click.IntRange(64), default=config.DEFAULT_MEMORY_MB, show_default=True,
              help="Resident memory cap for the script.")
@click.option("--isolation", type=click.Choice(["auto", "required", "none"]), default=None,
              help="Sandbox, as for `ask`. Default: $VIBEPLOT_ISOLATION, the config file, or auto.")
@click.option("--strict/--no-strict", default=None,
              help="Exit 1 also when the plot's verdict is wrong or unverifiable (as for `ask`).")
@click.option("--format", "formats", default=None, metavar="png[,pdf][,svg]",
              help="Also save each plot as PDF and/or SVG next to its PNG (as `ask --format`). "
                   "Default: $VIBEPLOT_FORMAT, the config file, or png.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the run's summary as one JSON object on stdout (as `ask --json`).")
def rerun(run, dataset, nfiles, out, timeout, memory_mb, isolation, strict, as_json, formats):
    """Run RUN's final script again in a new run directory, without asking the model.

    RUN is a run directory, or its name (or a unique prefix) under --out. The script runs in the
    same sandbox as in `ask` (a ServiceX stack gets its local backend). The new run records
    `rerun_of`; a benchmark question's plot is validated again on the dataset used.

    \b
    Example:
      vibeplot rerun vibeplot-runs/20261204-101500-plot-the-met --dataset other.root
    """
    from vibeplot.core.ask.followup import RerunOptions, rerun as rerun_run
    from vibeplot.core.ask.history import locate
    from vibeplot.core.errors import EXIT_NO_PLOT
    from vibeplot.core.files import check_writable_dir
    from vibeplot.core.sandbox.isolation import mode as isolation_mode
    from vibeplot.core.sandbox.run import Limits

    from ._show import run_with_status, summary
    from .ask import _interactive_chooser

    out = out or Path(config.setting("out", None, config.DEFAULT_OUT))
    extra_formats = config.formats_setting(formats)  # a bad value: exit 2 before any work
    opts = RerunOptions(run=locate(run, out), dataset=dataset, nfiles=nfiles, out=out,
                        limits=Limits(timeout=timeout, memory_mb=memory_mb, isolation=isolation_mode(isolation),
                                      extra_formats=extra_formats),
                        choose=_interactive_chooser())
    check_writable_dir(out)
    strict = config.flag_setting("strict", strict)
    result = run_with_status(opts, run=rerun_run)
    summary(result, as_json=as_json)
    if result.outcome != "plot":
        raise SystemExit(EXIT_NO_PLOT)
    verdict = (result.manifest.get("verdict") or {}).get("status")
    if strict and verdict in ("wrong", "unverifiable"):
        console.print(f"[red]--strict: the verdict is {verdict}[/]")
        raise SystemExit(EXIT_NO_PLOT)
