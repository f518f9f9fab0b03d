"""``vibeplot config``: every setting's effective value and where it comes from."""

from __future__ import annotations

import click


@click.command("config")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: each setting's value and source, the config file, the cache.")
def config_command(as_json):
    """Print each setting's effective value and its source (VIBEPLOT_<NAME>, the config file, or
    the default), then the files and folders vibeplot uses.  API keys are never printed.

    \b
    Exit codes: 0; 2 when the config file cannot be read.
    """
    from vibeplot.core import config, plugins
    from vibeplot.core.ask import llm
    from vibeplot.core.sandbox import isolation

    defaults = {"model": None, "stack": plugins.default_stack(), "api_base": None, "api_key": None,
                "llm_timeout": llm.DEFAULT_TIMEOUT, "max_iterations": config.DEFAULT_MAX_ITERATIONS,
                "out": config.DEFAULT_OUT, "isolation": isolation.mode(), "strict": False}
    defaults["prices"] = {}  # compare's model prices (--price): none unless configured
    defaults["lumi"] = None  # ask's --lumi (fb^-1): none unless given
    defaults["format"] = "png"  # ask's --format: PNG only unless other formats are asked for
    defaults["warm_workers"] = None  # --warm/--no-warm: each command's own default (compare yes, ask no)
    found = {}
    for name in config.SETTINGS:
        where = config.source(name)
        value = config.setting(name, None, defaults[name])
        if name == "isolation":
            value = isolation.mode()
        if name == "api_key" and value:
            value = "(set, not shown)"
        shown = "(none)" if value is None else value
        found[name] = {"value": value, "source": where}
        if not as_json:
            click.echo(f"{name:<15} {str(shown):<28} {where}")
    for key in config.unknown_file_keys():
        click.echo(f"Warning: {key!r} in {config.config_path()} is not a setting (ignored)", err=True)
    if as_json:
        import json

        click.echo(json.dumps({"settings": found, "config_file": str(config.config_path()),
                               "config_file_exists": config.config_path().is_file(), "cache": str(config.cache_dir())},
                              indent=2, default=str))
        return
    click.echo(f"{'config file':<15} {config.config_path()}{'' if config.config_path().is_file() else ' (none)'}")
    click.echo(f"{'cache':<15} {config.cache_dir()}")
