"""The ``servicex_awkward`` stack: ServiceX fetches columns; awkward, vector, hist and mplhep do the rest.

Real users point it at a production ServiceX (ATLAS rucio PHYSLITE datasets,
their own ``servicex.yaml``).  Local files and OpenData run against vibeplot's
loopback ServiceX-compatible backend with the unmodified servicex client.
"""

from __future__ import annotations

from pathlib import Path

from vibeplot.core import policies as core_policies
from vibeplot.core.datasets import Dataset
from vibeplot.core.hookspecs import hookimpl
from vibeplot.core.stack import Stack

from . import runner
from .explainers import EXPLAINERS
from .policies import POLICIES
from .preflight import xaod_preflight

HERE = Path(__file__).parent


def dataset_access(dataset: Dataset) -> str:
    if runner.is_rucio(dataset):
        return f'- ServiceX dataset: `dataset.Rucio("{dataset.location.removeprefix("rucio://")}")`\n'
    return f'- ServiceX dataset: `dataset.FileList(["{dataset.location}"])`\n'


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
        dataset_access=dataset_access,
        formats=("physlite", "flat-ntuple", "nanoaod", "root-file"),
        packages=("servicex", "servicex-analysis-utils", "func-adl", "func-adl-uproot",
                  "func-adl-servicex-xaodr25", "awkward", "vector", "hist", "mplhep"),
    )


@hookimpl
def register_stacks(register):
    register(make_stack())
