"""What a stack is: a prompt, hint bricks, policies, explainers, references, a runner.

A stack is mostly data kept in one directory::

    stacks/uproot_opendata/
        prompt.md          # the stack's instructions to the model
        hints/*.md         # hint bricks only this stack uses
        references/*.py    # curated solutions, named after question ids

plus a little Python: static policies (``code -> violations``), error
explainers (``failure -> advice``) and, when the generic sandboxed runner is
not enough, a runner.

>>> stack = Stack.from_directory("demo", Path("stacks/uproot_opendata"),
...                              description="demo", hint_bricks=["awkward"])  # doctest: +SKIP
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

from vibeplot.core.policies import Policy

if TYPE_CHECKING:
    from vibeplot.core.resolver import Dataset


@dataclass
class Failure:
    """What an explainer sees of a failed attempt."""

    code: str
    stdout: str
    stderr: str
    returncode: int | None
    timed_out: bool = False
    memory_exceeded: bool = False
    #: other logs of the attempt by file name (e.g. a local ServiceX backend's)
    logs: dict[str, str] = field(default_factory=dict)


# An explainer returns short advice lines for a failure (empty if it has none).
Explainer = Callable[[Failure], list[str]]


def rule_advice(rules: list[tuple["re.Pattern", str]], text: str) -> list[str]:
    """Advice from a table of (pattern, advice template) rules matched against ``text``.

    The template is formatted with the match's non-empty groups; each line appears once.

    >>> rule_advice([(re.compile(r"Unknown column: (\\w+)"), "{0} is not a column")], "Unknown column: met")
    ['met is not a column']
    """
    advice: list[str] = []
    for pattern, template in rules:
        for found in pattern.finditer(text):
            line = template.format(*([g for g in found.groups() if g] or [""]))
            if line not in advice:
                advice.append(line)
    return advice


class Runner(Protocol):
    """Runs a script file for a dataset and returns a :class:`vibeplot.core.sandbox.RunResult`.

    The default is :func:`vibeplot.core.sandbox.run_script`; a stack that needs
    a service around the script (a local ServiceX) wraps it.
    """

    def __call__(self, script: Path, *, workdir: Path, limits, dataset): ...


@dataclass
class Stack:
    name: str
    description: str
    prompt_template: str
    hint_bricks: list[str] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)
    explainers: list[Explainer] = field(default_factory=list)
    references_dir: Path | None = None
    local_hints_dir: Path | None = None
    runner: Runner | None = None
    #: which dataset formats the stack can read (e.g. "flat-ntuple", "nanoaod")
    formats: tuple[str, ...] = ()
    #: extra hint bricks by dataset format, e.g. {"physlite": ["funcadl_physlite"]}
    format_bricks: dict[str, list[str]] = field(default_factory=dict)
    #: stack-specific lines for the dataset section (how this stack reaches the data)
    dataset_access: Callable[["Dataset"], str] | None = None
    #: stack-specific lines after the dataset sections of a question about several datasets
    #: (e.g. one ServiceX ``deliver`` call with one ``Sample`` per dataset)
    samples_note: Callable[[list["Dataset"]], str] | None = None
    #: called before any LLM call; raises ConfigError when the stack cannot run on the dataset
    check_dataset: Callable[["Dataset"], None] | None = None
    #: hint bricks chosen from the dataset (overrides hint_bricks + format_bricks)
    select_bricks: Callable[["Dataset"], list[str]] | None = None
    #: sub-folder of references/ to use for a dataset (e.g. "direct"), None for the top level
    reference_variant: Callable[["Dataset"], str | None] | None = None
    #: sub-folder of references/ ("" for references/ itself) whose scripts read a local file
    #: themselves, with no service around them: run with the values hook, they can give the
    #: truth values that plots are validated against (:mod:`vibeplot.core.ask.validate`); its
    #: ``mistakes/`` holds known-mistake scripts.  None: the stack's references cannot (they
    #: need a ServiceX, say)
    truth_references: str | None = None
    #: the dataset formats the reference solutions are written for (the oracle refuses others
    #: before running anything); empty: every format in :attr:`formats`
    reference_formats: tuple[str, ...] = ()
    #: distributions whose versions go into run records
    packages: tuple[str, ...] = ()
    #: whether scripts may use the network: True, False, or ``dataset -> bool``.  None (the
    #: default): only for a remote dataset (an http(s)/root:// URL).  Without it the sandbox
    #: gives scripts no network at all (see :mod:`vibeplot.core.sandbox.isolation`).
    network: bool | Callable[["Dataset"], bool] | None = None
    #: the stack used when the user chooses none (``--stack``, ``VIBEPLOT_STACK``, config);
    #: vibeplot's own uproot_opendata claims it
    default: bool = False
    source: str = ""

    @classmethod
    def from_directory(cls, name: str, directory: Path, **kwargs) -> "Stack":
        """Build a stack from ``directory/prompt.md``, ``hints/`` and ``references/``."""
        directory = Path(directory)
        prompt = (directory / "prompt.md").read_text(encoding="utf-8")
        refs = directory / "references"
        hints = directory / "hints"
        return cls(
            name=name,
            prompt_template=prompt,
            references_dir=refs if refs.is_dir() else None,
            local_hints_dir=hints if hints.is_dir() else None,
            **kwargs,
        )

    def bricks_for(self, dataset) -> list[str]:
        """Hint bricks for a prompt about ``dataset``: the stack's, then its format's."""
        if self.select_bricks is not None and dataset is not None:
            return self.select_bricks(dataset)
        extra = self.format_bricks.get(dataset.format, []) if dataset is not None else []
        return [*self.hint_bricks, *(b for b in extra if b not in self.hint_bricks)]

    def reference_solution(self, question_id: str, dataset=None) -> str | None:
        """The curated solution for ``question_id`` (for ``dataset``'s variant), or None."""
        if self.references_dir is None:
            return None
        folder = self.references_dir
        if self.reference_variant is not None and dataset is not None:
            folder = folder / (self.reference_variant(dataset) or "")
        from vibeplot.core.questions import reference_file

        path = folder / reference_file(question_id)
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def truth_dir(self) -> Path | None:
        """The folder of references that can give truth values (see :attr:`truth_references`).

        >>> Stack("s", "", "", references_dir=Path("refs"), truth_references="direct").truth_dir()
        PosixPath('refs/direct')
        >>> Stack("s", "", "", references_dir=Path("refs")).truth_dir() is None
        True
        """
        if self.references_dir is None or self.truth_references is None:
            return None
        return self.references_dir / self.truth_references if self.truth_references else self.references_dir

    def needs_network(self, dataset) -> bool:
        """Whether scripts for ``dataset`` get the network (see :attr:`network`)."""
        if callable(self.network):
            return bool(self.network(dataset))
        if self.network is not None:
            return bool(self.network)
        location = getattr(dataset, "location", "") or ""
        return location.startswith(("http://", "https://", "root://", "davs://", "s3://"))

    def explain(self, failure: Failure) -> list[str]:
        advice: list[str] = []
        for explainer in self.explainers:
            for line in explainer(failure):
                if line not in advice:
                    advice.append(line)
        return advice
