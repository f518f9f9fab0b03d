"""The ``servicex_awkward`` stack: ServiceX fetches columns; awkward, vector, hist and mplhep do the rest.

Real users point it at a production ServiceX (ATLAS rucio PHYSLITE datasets,
their own ``servicex.yaml``).  Local files and OpenData run against vibeplot's
loopback ServiceX-compatible backend with the unmodified servicex client.  The
ServiceX side (runner, pre-flight, advice, ``NFiles=1``) is shared with the other
ServiceX stacks in :mod:`vibeplot.core.servicex`.
"""

from __future__ import annotations

from pathlib import Path

from vibeplot.core import policies as core_policies
from vibeplot.core.hookspecs import hookimpl
from vibeplot.core.servicex import runner
from vibeplot.core.servicex.preflight import xaod_preflight
from vibeplot.core.stack import Stack

from .explainers import EXPLAINERS
from .policies import POLICIES

HERE = Path(__file__).parent


def make_stack() -> Stack:
    return Stack.from_directory(
        "servicex_awkward",
        HERE,
        description="ServiceX (FuncADL / UprootRaw) delivers columns; awkward + vector + hist + mplhep",
        hint_bricks=["servicex", "awkward", "vector", "hist_mplhep"],
        format_bricks={
            "physlite": ["funcadl_physlite", "xaod_btagging"],
            "flat-ntuple": ["funcadl_uproot"],
            "nanoaod": ["funcadl_uproot"],
            "root-file": ["funcadl_uproot"],
        },
        policies=[*core_policies.BASIC, *POLICIES, xaod_preflight],
        explainers=EXPLAINERS,
        runner=runner.run,
        network=True,  # the client talks to a ServiceX (the local backend listens on the host)
        check_dataset=runner.check_dataset,
        dataset_access=runner.dataset_access,
        samples_note=runner.samples_note,
        # the references read the ADL benchmark schema (the embedded sample); a file given by path or URL
        # ("root-file") may have it, a PHYSLITE or NanoAOD dataset has not
        reference_formats=("flat-ntuple", "root-file"),
        formats=("physlite", "flat-ntuple", "nanoaod", "root-file"),
        packages=("servicex", "servicex-analysis-utils", "func-adl", "func-adl-uproot",
                  "func-adl-servicex-xaodr25", "awkward", "vector", "hist", "mplhep"),
    )


@hookimpl
def register_stacks(register):
    register(make_stack())
