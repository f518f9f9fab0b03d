"""``vibeplot ask``: the main job."""

from __future__ import annotations

from pathlib import Path

import click

from vibeplot.core import config


def _interactive_chooser():
    import sys

    if not sys.stdin.isatty():
        return None
    from .datasets import choose_interactively

    return choose_interactively


@click.command()
@click.argument("question", nargs=-1, required=True)
@click.option("--stack", "-s", default=None, help=f"Analysis stack (see `vibeplot stacks`). [default: uproot_opendata]")
@click.option("--model", "-m", default=None,
              help="litellm model string (openai/gpt-5-mini, anthropic/..., ollama/...), or `reference` "
                   "for the curated offline solutions. Default: $VIBEPLOT_MODEL or the config file.")
@click.option("--api-base", default=None, help="Base URL of an OpenAI-compatible or local model server.")
@click.option("--api-key", default=None,
              help="Key for the model server; with --api-base the only key sent (never one from the environment). "
                   "Default: $VIBEPLOT_API_KEY or api_key in the config file.")
@click.option("--llm-timeout", type=click.FloatRange(0, min_open=True), default=None,
              help="Seconds one model call may take; all retries of a call end within about 4 times that. [default: 120]")
@click.option("--dataset", "-d", multiple=True,
              help="A local ROOT file, a file URL (root://, https://), or a dataset phrase; repeat it for a question "
                   "about several samples (data and simulation, a stack). Default: the datasets the question names, "
                   "else the embedded ADL sample.")
@click.option("--max-iterations", "-n", type=click.IntRange(1, 20), default=None, help=f"Attempts before giving up. [default: {config.DEFAULT_MAX_ITERATIONS}]")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=f"Where run directories go. [default: ./{config.DEFAULT_OUT}]")
@click.option("--no-cache", is_flag=True, help="Do not use the on-disk LLM response cache.")
@click.option("--timeout", type=click.FloatRange(1), default=config.DEFAULT_SCRIPT_TIMEOUT, show_default=True,
              help="Wall-clock seconds per script run.")
@click.option("--memory-mb", type=click.IntRange(64), default=config.DEFAULT_MEMORY_MB, show_default=True,
              help="Resident memory cap per script run.")
@click.option("--isolation", type=click.Choice(["auto", "required", "none"]), default=None,
              help="Sandbox for generated code: auto (bubblewrap when it works, else a warning), required "
                   "(refuse to run without it), none. Default: $VIBEPLOT_ISOLATION, the config file, or auto.")
@click.option("--strict/--no-strict", default=None,
              help="Exit 1 also when the plot's verdict is wrong or unverifiable. Default: $VIBEPLOT_STRICT, "
                   "the config file, or off.")
@click.option("--lumi", type=float, default=None,
              help="Integrated luminosity (fb^-1) to normalise simulation to when the question states none; "
                   "it goes into the prompt's dataset section. Default: $VIBEPLOT_LUMI, the config file, or none.")
@click.option("--format", "formats", default=None, metavar="png[,pdf][,svg]",
              help="Also save each plot as PDF and/or SVG next to its PNG (the same figure, saved by vibeplot's "
                   "capture module and checked), e.g. png,pdf. Default: $VIBEPLOT_FORMAT, the config file, or png.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the run's summary as one JSON object on stdout (progress and the table go to stderr).")
@click.option("--warm/--no-warm", default=None,
              help="Run scripts in a warm worker (the scientific stack imported once; same sandbox and limits). "
                   "Setting: warm_workers. [default: no]")
@click.option("--continue", "-c", "continue_", is_flag=True,
              help="Follow up a run: `ask --continue [RUN_DIR] QUESTION` (without RUN_DIR the latest run under "
                   "--out). The prompt carries that run's question, final script and results; its stack, model "
                   "and dataset are the defaults.")
def ask(question, stack, model, api_base, api_key, llm_timeout, dataset, max_iterations, out, no_cache, timeout,
        memory_mb, isolation, strict, lumi, as_json, continue_, warm, formats):
    """Turn QUESTION into a plot: ask the model for code, run it, fix it until it works.

    \b
    Example:
      vibeplot ask --model reference "Plot the missing transverse energy of all events"
    """
    dataset = (dataset[0] if len(dataset) == 1 else list(dataset)) if dataset else None  # --dataset repeated: several
    from vibeplot.core import plugins
    from vibeplot.core.ask import llm
    from vibeplot.core.errors import ConfigError, EXIT_NO_PLOT
    from vibeplot.core.ask.loop import AskOptions
    from vibeplot.core.sandbox.isolation import mode as isolation_mode
    from vibeplot.core.sandbox.run import Limits

    from ._show import console, run_with_status, summary

    parent = None
    if continue_:
        from vibeplot.core.ask import followup
        from vibeplot.core.ask.history import read_run
        from vibeplot.core.resolver import find_phrase

        question, parent = followup.split_parent(question, out or Path(config.setting("out", None, config.DEFAULT_OUT)))
        before = read_run(parent)
        stack, model = stack or before.get("stack"), model or before.get("model")
        if dataset is None and find_phrase(" ".join(question)) is None:  # the parent's dataset
            dataset = followup.parent_dataset(before)
    if not " ".join(question).strip():
        raise ConfigError("the question is empty: say what to plot, e.g. vibeplot ask \"Plot the MET\"")
    model = config.setting("model", model)
    if not model:
        raise ConfigError(
            "no model chosen",
            hint="pass --model (e.g. openai/gpt-5-mini, ollama/llama3, or reference), "
                 "set VIBEPLOT_MODEL, or put model = \"...\" in " + str(config.config_path()),
        )
    opts = AskOptions(
        question=llm.clean_text(" ".join(question)),  # an undecodable argv byte: its backslash escape
        stack=plugins.stack_setting(stack),
        model=model,
        api_base=config.setting("api_base", api_base),
        api_key=llm.key_setting(api_key),
        llm_timeout=llm.timeout_setting(llm_timeout),
        dataset=dataset,
        max_iterations=int(config.setting("max_iterations", max_iterations, config.DEFAULT_MAX_ITERATIONS)),
        out=out or Path(config.setting("out", None, config.DEFAULT_OUT)),
        use_cache=not no_cache,
        limits=Limits(timeout=timeout, memory_mb=memory_mb, isolation=isolation_mode(isolation),
                      extra_formats=config.formats_setting(formats)),  # a bad value: exit 2 before any work
        # an ambiguous dataset phrase: ask on a terminal, else take the best match and warn
        choose=_interactive_chooser(),
        lumi=config.lumi_setting(lumi),  # a bad value: exit 2 before any work
        parent=parent,
    )
    from vibeplot.core.files import check_writable_dir

    check_writable_dir(opts.out)  # before any work: no half-made run
    strict = config.flag_setting("strict", strict)  # a bad value: exit 2 before any work
    from vibeplot.core.sandbox import warm as warm_workers

    with warm_workers.workers(config.flag_setting("warm_workers", warm, False)):
        result = run_with_status(opts)
    summary(result, as_json=as_json)
    if result.outcome != "plot":
        raise SystemExit(EXIT_NO_PLOT)
    verdict = (result.manifest.get("verdict") or {}).get("status")
    if strict and verdict in ("wrong", "unverifiable"):
        console.print(f"[red]--strict: the verdict is {verdict}[/]")
        raise SystemExit(EXIT_NO_PLOT)
