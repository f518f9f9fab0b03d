"""The plugin manager: loads every ``vibeplot`` entry point once.

>>> from vibeplot.core import plugins
>>> sorted(plugins.stacks())            # doctest: +SKIP
['uproot_opendata']
"""

from __future__ import annotations

import functools
import importlib.metadata
import warnings

import pluggy

from vibeplot.core import hookspecs
from vibeplot.core.errors import ConfigError

ENTRY_POINT_GROUP = "vibeplot"


@functools.cache
def manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("vibeplot")
    pm.add_hookspecs(hookspecs)
    pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    return pm


def _source_package(plugin: object) -> str:
    """The distribution (``name version``) that registered ``plugin``."""
    for plugin_obj, dist in manager().list_plugin_distinfo():
        if plugin_obj is plugin:
            return f"{dist.project_name} {dist.version}"
    return "(registered at run time)"


def _collect(hook_name: str) -> list[tuple[object, str]]:
    """Call a ``register_*`` hook; return (item, source package) pairs."""
    items: list[tuple[object, str]] = []
    pm = manager()
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        source = _source_package(impl.plugin)
        register = lambda item, _s=source: items.append((item, _s))  # noqa: E731
        try:
            impl.function(**({"register": register} if "register" in impl.argnames else {}))
        except Exception as err:  # one broken plugin must not take vibeplot down
            warnings.warn(f"plugin {impl.plugin_name} ({source}) failed in {hook_name}: {err!r}", stacklevel=2)
    return items


@functools.cache
def stacks() -> dict:
    """All registered stacks by name (``vibeplot.core.stack.Stack``)."""
    found: dict = {}
    for stack, source in _collect("register_stacks"):
        if stack.name in found:
            raise ConfigError(
                f"two plugins register a stack named {stack.name!r} "
                f"({found[stack.name].source} and {source})"
            )
        stack.source = source
        found[stack.name] = stack
    return found


def default_stack() -> str:
    """The stack used when none is chosen: the one registered with ``default=True`` (first by
    name if several claim it), else the first registered stack by name."""
    known = stacks()
    if not known:
        raise ConfigError("no stack is installed", hint="reinstall vibeplot (pip install vibeplot)")
    marked = sorted(name for name, stack in known.items() if getattr(stack, "default", False))
    return (marked or sorted(known))[0]


def stack_setting(cli_value: str | None = None) -> str:
    """``--stack``, else ``VIBEPLOT_STACK``, else ``stack`` in the config file, else :func:`default_stack`."""
    from vibeplot.core import config

    return config.setting("stack", cli_value) or default_stack()


def get_stack(name: str | None = None):
    """The stack called ``name`` (the default stack for None)."""
    known = stacks()
    name = name or default_stack()
    if name not in known:
        raise ConfigError(
            f"unknown stack {name!r}",
            hint="known stacks: " + ", ".join(sorted(known)) + " (see `vibeplot stacks`)",
        )
    return known[name]


@functools.cache
def dataset_resolvers() -> list:
    return [resolver for resolver, _ in _collect("register_dataset_resolvers")]


def add_commands(cli) -> None:
    manager().hook.register_commands(cli=cli)


def installed_versions(names: list[str]) -> dict[str, str]:
    """Versions of installed distributions, for run records."""
    out = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out
