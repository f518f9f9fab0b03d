"""User settings: where files go and which model/stack is the default, and vibeplot's
built-in defaults (the ``DEFAULT_*`` constants here, the one place each is written).

Precedence for every setting, in every command: command-line option, then environment
variable ``VIBEPLOT_<NAME>``, then the config file, then the built-in default; every
command resolves it with :func:`setting`.

>>> setting("stack", "rdataframe", "uproot_opendata")   # an option given on the command line wins
'rdataframe'

* config file: ``$VIBEPLOT_CONFIG`` or ``<user config dir>/vibeplot/config.toml``::

      model = "openai/gpt-5-mini"
      api_base = "http://localhost:11434"   # optional
      stack = "uproot_opendata"
      max_iterations = 3

* ``VIBEPLOT_MODEL``, ``VIBEPLOT_STACK``: default model and stack.
* ``VIBEPLOT_CACHE_DIR``: the embedded sample, the LLM response cache and the
  sandbox's home (default: the user cache dir, e.g. ``~/.cache/vibeplot``).
"""

from __future__ import annotations

import functools
import os
import tomllib
from pathlib import Path

from vibeplot.core.errors import ConfigError

#: ``--max-iterations``: attempts before giving up (setting ``max_iterations``)
DEFAULT_MAX_ITERATIONS = 3
#: ``vibeplot ask --out``: where run directories go (setting ``out``)
DEFAULT_OUT = "vibeplot-runs"
#: ``--timeout``: wall-clock seconds per script run
DEFAULT_SCRIPT_TIMEOUT = 600.0
#: ``--memory-mb``: resident memory cap per script run
DEFAULT_MEMORY_MB = 4096
#: the dataset of a question that names none (and of a benchmark question without one)
DEFAULT_DATASET_PHRASE = "adl sample"
#: events and random seed of the embedded ADL sample (``vibeplot datasets generate``'s defaults too)
SAMPLE_EVENTS = 100_000
SAMPLE_SEED = 20260429


def cache_dir() -> Path:
    import platformdirs  # here, not at the top: `vibeplot --help` stays fast

    path = Path(os.environ.get("VIBEPLOT_CACHE_DIR") or platformdirs.user_cache_dir("vibeplot"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_path() -> Path:
    import platformdirs

    return Path(os.environ.get("VIBEPLOT_CONFIG") or Path(platformdirs.user_config_dir("vibeplot")) / "config.toml")


@functools.cache
def _file_settings(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError) as err:
        raise ConfigError(f"cannot read the config file {path}: {err}") from None


def setting(name: str, cli_value=None, default=None):
    """Resolve ``name`` from the CLI value, ``VIBEPLOT_<NAME>``, the config file, or ``default``."""
    if cli_value is not None:
        return cli_value
    env = os.environ.get(f"VIBEPLOT_{name.upper()}")
    if env:
        return env
    return _file_settings(config_path()).get(name, default)


def flag_setting(name: str, cli_value: bool | None = None, default: bool = False) -> bool:
    """A yes/no setting: the option, else ``VIBEPLOT_<NAME>`` or the config file (true/false, 1/0,
    yes/no, on/off), else ``default``.

    >>> flag_setting("strict", True)
    True
    >>> import os; os.environ["VIBEPLOT_STRICT"] = "yes"; flag_setting("strict")
    True
    >>> os.environ["VIBEPLOT_STRICT"] = "maybe"; flag_setting("strict")
    Traceback (most recent call last):
    ...
    vibeplot.core.errors.ConfigError: the strict setting is 'maybe': use true or false
    >>> del os.environ["VIBEPLOT_STRICT"]
    """
    value = setting(name, cli_value, default)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"the {name} setting is {value!r}: use true or false")


#: every setting read through :func:`setting`: its meaning (``vibeplot config`` shows them all)
SETTINGS = {
    "model": "the model for ask (a litellm model string, or reference)",
    "stack": "the stack for ask, hints and compare",
    "api_base": "an OpenAI-compatible server for the model (--api-base)",
    "api_key": "the only key sent to --api-base (--api-key)",
    "llm_timeout": "seconds one model call may take (--llm-timeout)",
    "max_iterations": "attempts before giving up (--max-iterations)",
    "out": "where ask writes run directories (--out)",
    "isolation": "auto, required or none (--isolation)",
    "prices": 'compare: USD per million input/output tokens of models litellm has no price for, a table of "MODEL" = "IN/OUT" (--price)',
    "strict": "ask exits 1 on a wrong or unverifiable verdict (--strict)",
    "lumi": "ask: integrated luminosity (fb^-1) to normalise simulation to when the question states none (--lumi)",
    "format": "ask: the formats each plot is saved in, png plus any of pdf, svg, e.g. png,pdf (--format)",
    "warm_workers": "scripts run in warm workers, the scientific stack imported once (--warm); default: compare yes, ask no",
}


def lumi_setting(cli_value: float | None = None) -> float | None:
    """The ``lumi`` setting in fb^-1 (a positive number), or None when not set.

    >>> lumi_setting(10), lumi_setting()
    (10.0, None)
    >>> import os; os.environ["VIBEPLOT_LUMI"] = "-3"; lumi_setting()
    Traceback (most recent call last):
    ...
    vibeplot.core.errors.ConfigError: the lumi setting is '-3': use a positive number (fb^-1)
    >>> del os.environ["VIBEPLOT_LUMI"]
    """
    value = setting("lumi", cli_value)
    if value is None or value == "":
        return None
    try:
        lumi = float(value)
    except (TypeError, ValueError):
        lumi = float("nan")
    if not lumi > 0 or lumi == float("inf"):
        raise ConfigError(f"the lumi setting is {value!r}: use a positive number (fb^-1)")
    return lumi


#: the formats a plot can be saved in; png always
PLOT_FORMATS = ("png", "pdf", "svg")


def formats_setting(cli_value: str | None = None) -> tuple[str, ...]:
    """The formats besides PNG that each plot is also saved in (the ``format`` setting, e.g. "png,pdf").

    >>> formats_setting("png,pdf"), formats_setting("svg, PDF"), formats_setting()
    (('pdf',), ('svg', 'pdf'), ())
    >>> formats_setting("png,jpg")
    Traceback (most recent call last):
    ...
    vibeplot.core.errors.ConfigError: the format setting is 'png,jpg': jpg is not one of png, pdf, svg
    """
    value = setting("format", cli_value)
    if value is None or value == "":
        return ()
    names = [n.strip().lower() for n in (value if isinstance(value, list) else str(value).split(","))]
    bad = [n for n in names if n not in PLOT_FORMATS]
    if bad or not names:
        raise ConfigError(f"the format setting is {value!r}: {', '.join(bad) or 'nothing'} is not one of "
                          f"{', '.join(PLOT_FORMATS)}")
    return tuple(dict.fromkeys(n for n in names if n != "png"))


def source(name: str) -> str:
    """Where :func:`setting` finds ``name`` when no option is given: ``VIBEPLOT_<NAME>``, the
    config file, or ``default``.

    >>> import os; os.environ["VIBEPLOT_OUT"] = "runs"; source("out")
    'VIBEPLOT_OUT'
    >>> del os.environ["VIBEPLOT_OUT"]
    """
    if os.environ.get(f"VIBEPLOT_{name.upper()}"):
        return f"VIBEPLOT_{name.upper()}"
    if name in _file_settings(config_path()):
        return f"config file {config_path()}"
    return "default"


def unknown_file_keys() -> list[str]:
    """Keys of the config file that no setting reads (a typo, say)."""
    return sorted(set(_file_settings(config_path())) - set(SETTINGS))

