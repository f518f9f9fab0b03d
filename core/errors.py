"""Errors that end a command with a clear message and a documented exit code.

Exit codes (also in README.md):

* 0 — a plot was made
* 1 — no plot after all attempts (script failures, policy failures, or the model declined)
* 2 — usage or configuration error (unknown stack, missing credentials, bad input, an ambiguous
  dataset phrase with no terminal to ask on: the candidates are listed)
* 130 — interrupted (Ctrl-C); 143 / 129 — terminated by SIGTERM / SIGHUP
"""

import signal

EXIT_OK = 0
EXIT_NO_PLOT = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: handled like Ctrl-C (run records say ``interrupted``, the
    sandbox is ended), then the process exits with 128 + the signal number."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
        self.message = f"terminated by {signal.Signals(signum).name}"

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def raise_on_termination() -> None:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` in the main thread (CLI entry point)."""

    def handler(signum, _frame):
        raise Terminated(signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, handler)


class VibeplotError(Exception):
    """A problem the user can fix; printed as one line, never as a traceback."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


class ConfigError(VibeplotError):
    """Bad configuration: unknown stack or model, missing credentials, bad option."""


class ModelCallError(VibeplotError):
    """The model could not be reached or kept failing after retries (rate limits, outages)."""

    exit_code = EXIT_NO_PLOT


class DatasetError(VibeplotError):
    """A dataset phrase could not be resolved, or the stack cannot read it."""


class BudgetExceeded(VibeplotError):
    """``vibeplot compare --max-cost``: the next model call could take spending over the budget."""

    exit_code = EXIT_NO_PLOT


#: optional features of core and the extra that installs them (pyproject.toml's optional-dependencies;
#: a stack names its own, e.g. for ROOT)
EXTRAS = {
    "parquet": "parquet results from ServiceX and from the offline backend (pyarrow)",
    "xaod-preflight": "the offline check of xAOD (PHYSLITE) queries (servicex-local)",
    "compare": "compare and report (pyarrow, pandas)",
    "dask": "compare --executor dask://... (distributed)",
    "xrootd": "root:// URLs for uproot (fsspec-xrootd and the XRootD client)",
    "mcp": "vibeplot mcp, the MCP server for coding agents (the mcp SDK)",
}
#: the modules each of those extras installs (what ``vibeplot doctor`` looks for)
EXTRA_MODULES = {
    "parquet": ("pyarrow",),
    "xaod-preflight": ("servicex_local",),
    "compare": ("pyarrow", "pandas"),
    "dask": ("distributed",),
    "xrootd": ("fsspec_xrootd", "XRootD"),
    "mcp": ("mcp",),
}


def missing_modules(*modules: str) -> list[str]:
    """The ``modules`` that cannot be imported here (found without importing them).

    >>> missing_modules("json", "no_such_module_here")
    ['no_such_module_here']
    """
    import importlib.util

    missing = []
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def require_extra(extra: str, *modules: str, needed_for: str) -> None:
    """Raise :class:`ConfigError` naming the extra to install when any of ``modules`` is missing.

    >>> require_extra("compare", "json", needed_for="vibeplot compare")
    >>> try:
    ...     require_extra("compare", "no_such_module_here", needed_for="vibeplot compare")
    ... except ConfigError as err:
    ...     print(err, "/", err.hint)
    vibeplot compare needs the 'compare' extra (not installed: no_such_module_here) / pip install 'vibeplot[compare]' adds compare and report (pyarrow, pandas)
    """
    missing = missing_modules(*modules)
    if missing:
        raise ConfigError(f"{needed_for} needs the {extra!r} extra (not installed: {', '.join(missing)})",
                          hint=f"pip install 'vibeplot[{extra}]' adds {EXTRAS.get(extra, extra)}")
