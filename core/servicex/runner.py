"""Run a ServiceX script: against the local backend, or a real ServiceX for rucio datasets.

Shared by every stack whose scripts fetch data through ServiceX (servicex_awkward,
rdataframe when it does not read a local file directly): :func:`run` (a stack's
``runner``), :func:`check_dataset`, and :func:`dataset_access` (the dataset
section's lines on how a script names the dataset to ServiceX).

* Local files and OpenData URLs (``dataset.FileList``): a loopback
  ServiceX-compatible backend (:mod:`vibeplot.core.servicex.local`) is started for the
  attempt, its ``servicex.yaml`` is written into the attempt directory (the
  client finds it from its working directory), and it is stopped afterwards.
  Its log, ``servicex-backend.log``, stays in the attempt directory.  With
  ``VIBEPLOT_LOCAL_SERVICEX=URL`` (a backend started once with ``vibeplot
  servicex serve``) every run uses that one instead, and its log stays where
  that backend writes it; inside a compare
  (:func:`vibeplot.core.servicex.local.launcher.shared_backend`) every run uses
  the compare's one.
* Rucio DIDs: the user's own ServiceX configuration is used — the file named
  by ``VIBEPLOT_SERVICEX_CONFIG``, else ``servicex.yaml``/``.servicex`` found
  from the current directory upward or in ``$HOME``, as the servicex client
  itself searches.  That file is bound read-only into the script's empty home
  (isolated) or linked there (not isolated), never copied into a run directory;
  it is the only credential that reaches generated code, and only in ServiceX stacks.
  ``BEARER_TOKEN_FILE`` passes through too when set (and its file, read-only).
"""

from __future__ import annotations

import os
from pathlib import Path

from vibeplot.core.sandbox import run as sandbox
from vibeplot.core.resolver import Dataset
from vibeplot.core.errors import ConfigError

CONFIG_NAMES = ("servicex.yaml", ".servicex")


def is_rucio(dataset: Dataset) -> bool:
    return dataset.location.startswith("rucio://") or (
        ":" in dataset.location and not dataset.location.startswith(("/", "http", "root:", "file:"))
    )


def dataset_access(dataset: Dataset) -> str:
    """How a ServiceX script names ``dataset`` (a line of the prompt's dataset section).

    >>> from vibeplot.core.resolver import Dataset
    >>> print(dataset_access(Dataset("x", "x", "/data/f.root", "root-file")), end="")
    - ServiceX dataset: `dataset.FileList(["/data/f.root"])`
    """
    if is_rucio(dataset):
        return f'- ServiceX dataset: `dataset.Rucio("{dataset.location.removeprefix("rucio://")}")`\n'
    return f'- ServiceX dataset: `dataset.FileList(["{dataset.location}"])`\n'


def samples_note(datasets: list[Dataset]) -> str:
    """After the dataset sections of a question about several datasets: how to fetch them all.

    >>> from vibeplot.core.resolver import Dataset
    >>> print(samples_note([Dataset("a", "a", "/a.root", "root-file"), Dataset("b", "b", "/b.root", "root-file")]))
    - ServiceX: ONE `deliver` call whose `ServiceXSpec` has one `Sample` per dataset (2 here), each with its own `Name` and `Dataset` and the same `Query`; the result holds each sample under its `Name`.
    """
    return (f"- ServiceX: ONE `deliver` call whose `ServiceXSpec` has one `Sample` per dataset ({len(datasets)} here), "
            "each with its own `Name` and `Dataset` and the same `Query`; the result holds each sample under its `Name`.")


def user_servicex_config() -> Path | None:
    explicit = os.environ.get("VIBEPLOT_SERVICEX_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    here = Path.cwd()
    for folder in (here, *here.parents, Path.home()):
        for name in CONFIG_NAMES:
            if (folder / name).is_file():
                return folder / name
    return None


def check_dataset(dataset: Dataset) -> None:
    """Before any LLM call: a rucio dataset needs the user's ServiceX configuration (any other
    dataset goes through the local backend, which the default install includes)."""
    if is_rucio(dataset) and user_servicex_config() is None:
        raise ConfigError(
            f"{dataset.name} is a rucio dataset, which needs a real ServiceX, and no servicex.yaml was found",
            hint="put your servicex.yaml (with its token) in this directory or $HOME, or point "
                 "VIBEPLOT_SERVICEX_CONFIG at it; local files and OpenData URLs need nothing",
        )


def run(script: Path, *, workdir: Path, limits: sandbox.Limits, dataset: Dataset) -> sandbox.RunResult:
    if is_rucio(dataset):
        config = user_servicex_config()
        grant = sandbox.Grant(network=True, home_files={"servicex.yaml": config})
        extra, allowed = {}, set()
        if os.environ.get("BEARER_TOKEN_FILE"):
            extra["BEARER_TOKEN_FILE"] = os.environ["BEARER_TOKEN_FILE"]
            allowed.add("BEARER_TOKEN_FILE")
            grant = grant.merge(sandbox.Grant(read_only=(Path(os.environ["BEARER_TOKEN_FILE"]),)))
        return sandbox.run_script(script, workdir=workdir, limits=limits, extra_env=extra, allow_secrets=allowed,
                                  grant=grant)

    from vibeplot.core.servicex.local.launcher import backend_for_run

    with backend_for_run(log_path=workdir / "servicex-backend.log") as backend:
        backend.write_config(workdir)
        return sandbox.run_script(script, workdir=workdir, limits=limits, grant=sandbox.Grant(network=True))
