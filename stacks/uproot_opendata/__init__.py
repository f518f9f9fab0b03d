"""The ``uproot_opendata`` stack: uproot on local or OpenData files, awkward, vector, hist, mplhep.

Needs no external service.  Registered through the ``vibeplot`` entry-point
group like any third-party stack.
"""

from __future__ import annotations

from pathlib import Path

from vibeplot.core import policies
from vibeplot.core.hookspecs import hookimpl
from vibeplot.core.stack import Stack
from vibeplot.hints.awkward import advise as awkward_advice

HERE = Path(__file__).parent


def make_stack() -> Stack:
    return Stack.from_directory(
        "uproot_opendata",
        HERE,
        description="uproot reads local/OpenData ROOT files; awkward + vector + hist + mplhep",
        default=True,  # the stack used when none is chosen
        hint_bricks=["uproot", "awkward", "vector", "hist_mplhep"],
        policies=list(policies.BASIC),
        explainers=[awkward_advice],
        truth_references="",  # every reference reads the file itself
        # the references read the ADL benchmark schema (the embedded sample); a file given by path or URL
        # ("root-file") may have it, a PHYSLITE or NanoAOD dataset has not
        reference_formats=("flat-ntuple", "root-file"),
        formats=("flat-ntuple", "nanoaod", "root-file"),
        packages=("uproot", "awkward", "vector", "hist", "mplhep", "matplotlib", "numpy"),
    )


@hookimpl
def register_stacks(register):
    register(make_stack())
