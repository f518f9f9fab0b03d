"""Testing helpers for vibeplot and for authors of stacks.

* :mod:`.scripted_server`: a scripted OpenAI-compatible chat server on 127.0.0.1;
* :mod:`.contract`: :func:`check_stack`, the stack contract a stack checks from its own tests;
* :func:`registered`: register stacks for a while, without an entry point (e.g. a broken variant);
* :mod:`.pytest_plugin`: the pytest fixtures ``scripted_model``, ``vibeplot_cache``,
  ``vibeplot_sample`` and ``register_stack``, loaded by pytest in any project that installs
  vibeplot (entry point ``pytest11``; ``-p no:vibeplot`` turns them off).

>>> from vibeplot.testing import check_stack
>>> check_stack("my_stack", questions="adl-1")     # doctest: +SKIP

Importing this package is cheap (pytest imports it at start): the helpers load on first use.
"""

from __future__ import annotations

import contextlib

__all__ = ["check_stack", "Check", "ContractReport", "ScriptedServer", "registered"]


def __getattr__(name: str):
    if name in ("check_stack", "Check", "ContractReport"):
        from vibeplot.testing import contract

        return getattr(contract, name)
    if name == "ScriptedServer":
        from vibeplot.testing.scripted_server import ScriptedServer

        return ScriptedServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@contextlib.contextmanager
def registered(*stacks):
    """Register ``stacks`` (:class:`vibeplot.core.stack.Stack` objects) for the ``with`` block, as a
    plugin would; their source reads ``(registered at run time)``.  A name that is already taken
    raises :class:`vibeplot.core.errors.ConfigError` at once.

    >>> with registered(Stack(name="my_variant", description="...", prompt_template="...")):  # doctest: +SKIP
    ...     check_stack("my_variant", questions=[])
    """
    import types

    from vibeplot.core import plugins
    from vibeplot.core.hookspecs import hookimpl

    plugin = types.ModuleType(f"vibeplot.testing.registered:{','.join(s.name for s in stacks)}")

    @hookimpl
    def register_stacks(register):
        for stack in stacks:
            register(stack)

    plugin.register_stacks = register_stacks
    pm = plugins.manager()
    pm.register(plugin, name=f"{plugin.__name__}:{id(plugin)}")
    plugins.stacks.cache_clear()
    try:
        plugins.stacks()  # a name clash shows here, not later
        yield stacks[0] if len(stacks) == 1 else stacks
    finally:
        pm.unregister(plugin)
        plugins.stacks.cache_clear()
