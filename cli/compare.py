"""``vibeplot compare`` and ``vibeplot report``: benchmark stacks and models, and report on it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from vibeplot.core import config


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


@click.command()
@click.option("--questions", "-q", default="adl", show_default=True,
              help="Question ids and/or sets, comma-separated (adl, extra, all; see `vibeplot questions list`).")
@click.option("--stacks", "-s", default=None,
              help=f"Stacks, comma-separated. Default: $VIBEPLOT_STACK, the config file, or the default stack (uproot_opendata).")
@click.option("--models", "-m", default="", help="litellm model strings, comma-separated. `reference` is "
              "always added as a baseline (one trial per stack and question) unless --no-baseline.")
@click.option("--trials", "-t", type=click.IntRange(1), default=1, show_default=True, help="Trials per cell.")
@click.option("--jobs", "-j", type=click.IntRange(1), default=4, show_default=True,
              help="Cells in flight at once (model calls); scripts are bounded by the core count.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("vibeplot-compare"),
              show_default=True, help="Directory for runs, results and the report.")
@click.option("--max-iterations", "-n", type=click.IntRange(1, 20), default=None,
              help=f"Attempts per trial before giving up. [default: {config.DEFAULT_MAX_ITERATIONS}]")
@click.option("--max-cost", type=click.FloatRange(0), default=None,
              help="USD budget: no model call starts that could take spending over it.")
@click.option("--price", "prices", multiple=True, metavar="MODEL=IN/OUT",
              help="USD per million input/output tokens for a model litellm has no price for (e.g. a local one; "
                   "0/0 allowed); repeatable; rows record the cost as user-priced. Also the prices config table.")
@click.option("--resume", is_flag=True, help="Run only the cells missing from OUT/results.")
@click.option("--api-base", default=None, help="Base URL of an OpenAI-compatible or local model server. "
              "Default: $VIBEPLOT_API_BASE or api_base in the config file.")
@click.option("--api-key", default=None,
              help="Key for the model server; with --api-base the only key sent (never one from the environment). "
                   "Default: $VIBEPLOT_API_KEY or api_key in the config file.")
@click.option("--llm-timeout", type=click.FloatRange(0, min_open=True), default=None,
              help="Seconds one model call may take; all retries of a call end within about 4 times that. "
                   "[default: 120]")
@click.option("--executor", default="local", show_default=True, help="local, or dask://HOST:PORT for a Dask cluster.")
@click.option("--no-baseline", is_flag=True, help="Do not add the reference baseline.")
@click.option("--timeout", type=click.FloatRange(1), default=config.DEFAULT_SCRIPT_TIMEOUT, show_default=True,
              help="Seconds per script run.")
@click.option("--warm/--no-warm", default=None,
              help="Run scripts in warm workers (the scientific stack imported once per worker; same sandbox "
                   "and limits). Setting: warm_workers. [default: yes]")
@click.option("--format", "formats", default=None, metavar="png[,pdf][,svg]",
              help="Also save every plot as PDF and/or SVG next to its PNG. Setting: format. [default: png]")
def compare(questions, stacks, models, trials, jobs, out, max_iterations, max_cost, prices, resume, api_base, api_key,
            llm_timeout, executor, no_baseline, timeout, warm, formats):
    """Run questions × stacks × models × trials, validate every plot, write results and a report.

    \b
    Results: OUT/results/*.parquet, one row per trial (pandas.read_parquet("OUT/results"));
    report: OUT/report.md and OUT/report.html (regenerate with `vibeplot report OUT`).
    Exit codes: 0 every cell ran, 1 stopped early by --max-cost, 2 usage error, 130 interrupted.

    \b
    Example:
      vibeplot compare -q adl -s uproot_opendata,rdataframe -m openai/gpt-4o-mini -t 3 -j 8
    """
    from rich.live import Live

    from vibeplot.core.errors import require_extra

    require_extra("compare", "pyarrow", needed_for="vibeplot compare")
    from vibeplot.core import plugins
    from vibeplot.core.bench import compare as core

    from vibeplot.core.ask import llm

    from vibeplot.core.bench import report
    from vibeplot.core.errors import ConfigError, EXIT_NO_PLOT
    from vibeplot.core.questions import select

    from ._show import console

    try:
        chosen = [q.id for q in select(questions)]
    except KeyError as err:
        raise ConfigError(err.args[0]) from None
    opts = core.CompareOptions(
        questions=chosen, stacks=_split(plugins.stack_setting(stacks)), models=_split(models),
        trials=trials, jobs=jobs, out=out,
        max_iterations=int(config.setting("max_iterations", max_iterations, config.DEFAULT_MAX_ITERATIONS)),
        max_cost=max_cost, resume=resume, api_base=config.setting("api_base", api_base), executor=executor,
        baseline=not no_baseline, timeout=timeout,
        api_key=llm.key_setting(api_key), llm_timeout=llm.timeout_setting(llm_timeout),
        prices=dict(llm.parse_price(p) for p in prices),
        warm=config.flag_setting("warm_workers", warm, True),
        formats=config.formats_setting(formats),  # a bad value: exit 2 before any work
    )
    from vibeplot.core.files import check_writable_dir

    check_writable_dir(out)  # before the live line starts: one clear line, nothing made
    progress = core.Progress(total=0)

    def line(p: core.Progress) -> str:
        return (f"cells {p.done}/{p.total} done ({p.skipped} from before), {p.running} running, "
                f"{p.failed} without a plot, cost ${p.cost:.4f}")

    try:
        with Live(line(progress), console=console, refresh_per_second=4, transient=False) as live:
            result = core.run_compare(opts, progress, on_update=lambda p: live.update(line(p)))
    except KeyboardInterrupt:
        console.print("Interrupted: finishing the cells already running (their results are kept); "
                      "rerun with --resume for the rest. Ctrl-C again abandons them.")
        raise
    paths = report.write_report(out)
    click.echo(report.short_table(json.loads(paths["summary"].read_text(encoding="utf-8"))))
    click.echo(f"{result.ran} trial(s) run, {result.skipped} already done; results in {out / 'results'}")
    click.echo(f"report: {paths['md']}  {paths['html']}")
    if result.stopped:
        click.secho(f"Stopped early: {result.stopped}. Rerun with --resume (and a larger --max-cost) "
                    "for the missing cells.", fg="yellow", err=True)
        raise SystemExit(EXIT_NO_PLOT)


@click.command("report")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
def report_command(out):
    """(Re)write OUT/report.md and OUT/report.html from a compare's results."""
    from vibeplot.core.errors import ConfigError, require_extra

    require_extra("compare", "pyarrow", needed_for="vibeplot report")
    from vibeplot.core.bench import report

    if not (out / "compare.json").is_file():
        raise ConfigError(f"{out} is not a compare directory (no compare.json)")
    paths = report.write_report(out)
    click.echo(f"report: {paths['md']}  {paths['html']}")
