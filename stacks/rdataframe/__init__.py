"""The ``rdataframe`` stack: ROOT RDataFrame analyses, with ServiceX delivery or on local files.

vibeplot's headline stack.  ServiceX skims the data into ROOT files (or
RDataFrame reads a file directly with ``--dataset PATH`` or ``URL``); RDataFrame
defines, filters and histograms, and ROOT draws.  ROOT comes from PyPI as the
optional extra ``vibeplot[rdataframe]``.
"""

from __future__ import annotations

from pathlib import Path

from vibeplot.core import policies as core_policies
from vibeplot.core.resolver import Dataset
from vibeplot.core.hookspecs import hookimpl
from vibeplot.core.servicex.preflight import xaod_preflight
from vibeplot.core.servicex.runner import dataset_access as servicex_access
from vibeplot.core.servicex.runner import samples_note as servicex_samples_note
from vibeplot.core.stack import Stack

from . import runner
from .explainers import EXPLAINERS
from .policies import POLICIES

HERE = Path(__file__).parent

FORMAT_BRICKS = {"physlite": ["funcadl_physlite", "xaod_btagging"]}


def select_bricks(dataset: Dataset) -> list[str]:
    if runner.is_direct(dataset):
        return ["rdataframe"]
    return ["servicex_rdf", *FORMAT_BRICKS.get(dataset.format, ["funcadl_uproot"]), "rdataframe"]


def dataset_access(dataset: Dataset) -> str:
    if runner.is_direct(dataset):
        return (f'- Read it directly, without ServiceX: `ROOT.RDataFrame("{dataset.tree or "Events"}", '
                f'"{dataset.location}")`\n')
    return servicex_access(dataset) + "- Then open the delivered ROOT files with RDataFrame.\n"


def samples_note(datasets: list[Dataset]) -> str:
    if all(runner.is_direct(d) for d in datasets):
        return "- Read each file with its own `ROOT.RDataFrame` (the same definitions and binning for each).\n"
    return servicex_samples_note(datasets) + "\n- Then one RDataFrame per sample on its delivered files.\n"


def make_stack() -> Stack:
    return Stack.from_directory(
        "rdataframe",
        HERE,
        description="ROOT RDataFrame on ServiceX-delivered ROOT files or local files; ROOT draws",
        hint_bricks=["servicex_rdf", "funcadl_uproot", "rdataframe"],
        select_bricks=select_bricks,
        reference_variant=lambda ds: "direct" if runner.is_direct(ds) else None,
        truth_references="direct",  # references/direct/ read the file with RDataFrame, no ServiceX
        policies=[core_policies.no_installs_or_shell, *POLICIES, xaod_preflight],
        explainers=EXPLAINERS,
        runner=runner.run,
        network=runner.needs_network,
        check_dataset=runner.check_dataset,
        dataset_access=dataset_access,
        samples_note=samples_note,
        # the references read the ADL benchmark schema (the embedded sample); a file given by path or URL
        # ("root-file") may have it, a PHYSLITE or NanoAOD dataset has not
        reference_formats=("flat-ntuple", "root-file"),
        formats=("physlite", "flat-ntuple", "nanoaod", "root-file"),
        packages=("root", "servicex", "func-adl-uproot", "func-adl-servicex-xaodr25", "numpy"),
    )


@hookimpl
def register_stacks(register):
    register(make_stack())
