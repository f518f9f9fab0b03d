"""Datasets: what a question runs on, and how phrases resolve to one.

Resolvers are plugins (hook ``register_dataset_resolvers``).  Each returns
ranked :class:`Candidate` objects for a phrase; vibeplot merges them.  A local
file given with ``--dataset PATH`` needs no resolver.

>>> ds = resolve_one("adl benchmark sample", ResolveContext(stack="uproot_opendata"))  # doctest: +SKIP
>>> ds.name, ds.format                                                                # doctest: +SKIP
('adl-sample', 'flat-ntuple')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from .errors import DatasetError


@dataclass
class Dataset:
    name: str
    title: str
    #: local path, URL, or rucio DID
    location: str
    #: "flat-ntuple", "nanoaod", "physlite", ...
    format: str
    tree: str | None = None
    experiment: str | None = None
    description: str = ""
    #: extra facts for the model (branch list, weights, cross section, ...)
    prompt_notes: str = ""
    #: any further metadata recorded in run.json
    metadata: dict = field(default_factory=dict)
    #: called before use, e.g. to generate the embedded sample on first use
    prepare: Callable[[], None] | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("prepare")
        return data

    def prompt_block(self) -> str:
        """The dataset section of the prompt."""
        lines = [f"## Dataset: {self.title}", f"- Location: `{self.location}`"]
        if self.tree:
            lines.append(f"- Tree: `{self.tree}`")
        lines.append(f"- Format: {self.format}" + (f" ({self.experiment})" if self.experiment else ""))
        if self.description:
            lines.append(f"- {self.description}")
        if self.prompt_notes:
            lines.append(self.prompt_notes.rstrip())
        return "\n".join(lines) + "\n"


@dataclass
class ResolveContext:
    stack: str | None = None
    experiment: str | None = None
    run_period: str | None = None


@dataclass
class Candidate:
    dataset: Dataset
    score: float
    why: str


Resolver = Callable[[str, ResolveContext], list[Candidate]]


def candidates(phrase: str, context: ResolveContext) -> list[Candidate]:
    """Every resolver's candidates for ``phrase``, best first."""
    from . import plugins

    found: list[Candidate] = []
    for resolver in plugins.dataset_resolvers():
        found.extend(resolver(phrase, context))
    return sorted(found, key=lambda c: -c.score)


def resolve_one(phrase: str, context: ResolveContext) -> Dataset:
    found = candidates(phrase, context)
    if not found:
        raise DatasetError(f"no dataset matches {phrase!r}", hint="see `vibeplot datasets --help`")
    return found[0].dataset


def from_path(path: str) -> Dataset:
    """A local ROOT file given by path; its trees and branches go into the prompt."""
    import uproot

    file = Path(path).expanduser()
    if not file.is_file():
        raise DatasetError(f"dataset file {path} does not exist")
    try:
        with uproot.open(file) as root_file:
            trees = {k.split(";")[0]: v for k, v in root_file.items(filter_classname="TTree")}
            if not trees:
                raise DatasetError(f"{path} holds no TTree")
            tree_name, tree = max(trees.items(), key=lambda kv: kv[1].num_entries)
            branches = [f"{b.name} ({b.typename})" for b in tree.branches]
            entries = tree.num_entries
    except DatasetError:
        raise
    except Exception as err:  # uproot raises many kinds for non-ROOT input
        raise DatasetError(f"cannot read {path} as a ROOT file: {err}") from None
    shown = branches[:150]
    notes = "- Branches (name, type): " + ", ".join(shown)
    if len(branches) > len(shown):
        notes += f", ... ({len(branches) - len(shown)} more; list them with uproot)"
    return Dataset(
        name=file.name,
        title=f"local file {file.name}",
        location=str(file.resolve()),
        format="root-file",
        tree=tree_name,
        description=f"{entries} entries in tree `{tree_name}`; other trees: "
        + (", ".join(t for t in trees if t != tree_name) or "none"),
        prompt_notes=notes,
        metadata={"given_as_path": True},
    )
