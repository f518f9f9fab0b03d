"""The ``vibeplot`` command line: thin click commands, one module per command group.

Command modules import only click at top level; the work is in
:mod:`vibeplot.core`, imported when a command runs, so ``--help`` is fast.
"""
