"""The plugin API of vibeplot (pluggy hook specifications).

A plugin is a module or object with functions decorated by
``vibeplot.core.hookspecs.hookimpl`` and registered through the ``vibeplot``
entry-point group in its ``pyproject.toml``::

    [project.entry-points.vibeplot]
    my_stack = "my_package.vibeplot_plugin"

Built-in stacks and resolvers are registered the same way.  Every hook hands
the plugin a ``register`` callback, so one plugin may add several things.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("vibeplot")
hookimpl = pluggy.HookimplMarker("vibeplot")


@hookspec
def register_stacks(register):
    """Add analysis stacks.

    Call ``register(stack)`` once per :class:`vibeplot.core.stack.Stack`.  A
    stack is mostly data: a prompt template, the names of the hint bricks it
    uses, static policies, error explainers, reference solutions, and the
    runner that executes generated code.  Scripts run isolated (see
    :mod:`vibeplot.core.sandbox.isolation`) and get no network unless ``Stack.network``
    says so (``True``, or ``dataset -> bool``).  Example::

        from vibeplot.core.hookspecs import hookimpl
        from vibeplot.core.stack import Stack

        @hookimpl
        def register_stacks(register):
            register(Stack.from_directory("my_stack", Path(__file__).parent,
                                          description="coffea + dask-awkward",
                                          hint_bricks=["awkward", "hist_mplhep"]))
    """


@hookspec
def register_dataset_resolvers(register):
    """Add dataset resolvers.

    Call ``register(resolver)`` with a callable ``resolver(phrase, context)``
    returning a list of :class:`vibeplot.core.resolver.Candidate` (best first,
    empty when the phrase means nothing to this resolver).  ``context`` is a
    :class:`vibeplot.core.resolver.ResolveContext` (stack name, experiment,
    run period).  Several resolvers may answer the same phrase; vibeplot merges
    their candidates by score.
    """


@hookspec
def register_commands(cli):
    """Add commands to the ``vibeplot`` command line.

    ``cli`` is the top-level :class:`click.Group`; add commands with
    ``cli.add_command(my_command)`` or the ``@cli.command()`` decorator.
    Keep imports inside the command body so ``vibeplot --help`` stays fast.
    """
