"""The dataset resolver: the :class:`Dataset` a question runs on, and how a phrase resolves to one.

Resolvers are plugins (hook ``register_dataset_resolvers``).  Each returns ranked
:class:`Candidate` objects for a phrase; vibeplot merges them.  A local file given with
``--dataset PATH`` needs no resolver.  (The built-in datasets are resolver plugins in
:mod:`vibeplot.datasets`; the ``vibeplot datasets`` command is :mod:`vibeplot.cli.datasets`.)

>>> ds = resolve_one("adl benchmark sample", ResolveContext(stack="uproot_opendata"))  # doctest: +SKIP
>>> ds.name, ds.format                                                                # doctest: +SKIP
('adl-sample', 'flat-ntuple')
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from vibeplot.core.errors import DatasetError
from vibeplot.core.questions import normalise_with


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
    #: formats the stack reads (empty: unknown, no preference)
    formats: tuple[str, ...] = ()


@dataclass
class Candidate:
    dataset: Dataset
    score: float
    why: str
    #: the phrase equals one of the dataset's names or aliases (after normalising)
    exact: bool = False


Resolver = Callable[[str, ResolveContext], list[Candidate]]

#: a non-exact best candidate needs at least this score (0-1) ...
THRESHOLD = 0.85
#: ... and must beat the runner-up by at least this much; otherwise the phrase is ambiguous
MARGIN = 0.05
#: multiplied into a fuzzy score when the context disfavours a dataset (format the
#: stack cannot read, other experiment, other run period)
CONTEXT_PENALTY = 0.9


class AmbiguousDataset(DatasetError):
    """Several datasets fit a phrase about equally well; ``candidates`` holds them, best first."""

    def __init__(self, phrase: str, found: list[Candidate]):
        self.phrase = phrase
        self.candidates = found
        names = ", ".join(f"{c.dataset.name} ({c.score:.2f})" for c in found)
        super().__init__(
            f"{phrase!r} is ambiguous: {names}",
            hint="be more specific, or name one with --dataset NAME (see `vibeplot datasets list`)",
        )


@dataclass
class Resolution:
    dataset: Dataset
    phrase: str
    score: float
    why: str
    #: the other candidates, best first
    alternatives: list[Candidate] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "name": self.dataset.name,
            "why": self.why,
            "phrase": self.phrase,
            "score": round(self.score, 3),
            "alternatives": [c.dataset.name for c in self.alternatives],
        }


# Phrase normalisation: the same physics process is written many ways.
_PHRASE_SYNONYMS = [
    (r"\bt\s?t̄|\bt\s?\\bar\{?t\}?|\btt-?bar\b|\bt-?tbar\b|\btop[- ]anti-?top\b|\btop(?: quark)?[- ]pairs?\b|\btt\b", " ttbar "),
    (r"\bsemi-?leptonic\b|\blepton ?(?:\+|plus|and) ?jets\b|\bl ?\+ ?jets\b|\bsingle[- ]?lep(?:ton)?\b"
     r"|\b(?:1|one)-lepton\b|\bsemilep\b", " semileptonic "),
    (r"\bdi-?lep(?:ton(?:ic)?)?\b|\b(?:2|two)-lepton\b", " dilepton "),
    (r"\bnon[- ]?all[- ]?had(?:ronic)?\b", " nonallhad "),
    (r"\ball[- ]?had(?:ronic)?\b|\bfully[- ]hadronic\b|\b(?:0|zero)-lepton\b", " allhad "),
    (r"\bopen[- ]?data\b", " opendata "),
    (r"\brun[- ]?(?:3|iii)\b", " run 3 "),
    (r"\brun[- ]?(?:2|ii)\b", " run 2 "),
    (r"→|->", " to "),
    (r"μ\+?\s?μ-?|\bmu\+?\s?mu-?(?=\W|$)", " mumu "),
    (r"\be\+\s?e-", " ee "),
    (r"\bzprime\b|\bz ?'|\bz prime\b", " zprime "),
    (r"\bz\s*(?:to\s*)?(mumu|ee)\b", r" z\1 "),
    (r"\bw\s*(?:to\s*)?(e|mu|μ|l|ℓ)\s*(?:nu|ν)\b", r" w\1nu "),
    (r"μ", "mu"),
    (r"ℓ", "l"),
    (r"ν", "nu"),
    (r"\b(?:the|a|an)\b", " "),  # articles
]


@functools.lru_cache(maxsize=4096)
def normalise_phrase(text: str) -> str:
    """Lower case, unify spellings of processes ("tt̄"/"top pair" → "ttbar", "lepton+jets" →
    "semileptonic", "Z->mumu"/"Z to mu mu" → "zmumu", ...) and drop punctuation and articles.

    >>> normalise_phrase("Semi-leptonic tt̄")
    'semileptonic ttbar'
    >>> normalise_phrase("Z -> μμ"), normalise_phrase("Z to mu mu"), normalise_phrase("Zmumu")
    ('zmumu', 'zmumu', 'zmumu')
    >>> normalise_phrase("top pair lepton+jets")
    'ttbar semileptonic'
    """
    return normalise_with(text, _PHRASE_SYNONYMS, keep="+<>=.|'")


def _tokens_equal(a: str, b: str) -> bool:
    return a == b or sorted(a.split()) == sorted(b.split())


def phrase_score(phrase: str, phrasing: str) -> tuple[float, bool]:
    """How well a normalised ``phrase`` fits a normalised ``phrasing`` (0-1), and whether exactly.

    Half is rapidfuzz's token_set_ratio (1 when one is a subset of the other), half the share
    of the phrase's words found (fuzzily) in the phrasing, so extra words the phrasing lacks
    cost score: "ttbar" fits every ttbar sample fully, "ttbar higgs" none of them well.
    """
    from rapidfuzz import fuzz

    if not phrase or not phrasing:
        return 0.0, False
    if _tokens_equal(phrase, phrasing):
        return 1.0, True
    words = phrasing.split()
    wanted = phrase.split()
    covered = sum(1 for w in wanted if max(fuzz.ratio(w, x) for x in words) >= 85) / len(wanted)
    return 0.5 * fuzz.token_set_ratio(phrase, phrasing) / 100 + 0.5 * covered, False


def _merge(found: list[Candidate]) -> list[Candidate]:
    """One candidate per dataset name (the best one, exact if any was), best first."""
    best: dict[str, Candidate] = {}
    for c in found:
        old = best.get(c.dataset.name)
        if old is None or (c.exact, c.score) > (old.exact, old.score):
            best[c.dataset.name] = Candidate(c.dataset, c.score, c.why, c.exact or (old.exact if old else False))
        elif c.exact and not old.exact:
            old.exact = True
    return sorted(best.values(), key=lambda c: (not c.exact, -c.score))


def candidates(phrase: str, context: ResolveContext) -> list[Candidate]:
    """Every resolver's candidates for ``phrase``, merged per dataset, best first."""
    from vibeplot.core import plugins

    found: list[Candidate] = []
    for resolver in plugins.dataset_resolvers():
        found.extend(resolver(phrase, context))
    return _merge(found)


def resolve(phrase: str, context: ResolveContext) -> Resolution:
    """The one dataset ``phrase`` means, or an error.

    Rules: a single exact match (name or alias, after :func:`normalise_phrase`) wins; several
    exact matches are ambiguous.  Otherwise the best fuzzy candidate wins if it scores at least
    :data:`THRESHOLD` and beats the runner-up by :data:`MARGIN`; if it scores less, the phrase
    is unknown (:class:`DatasetError` naming the closest datasets); else :class:`AmbiguousDataset`.
    """
    found = candidates(phrase, context)
    exact = [c for c in found if c.exact]
    if len(exact) == 1:
        top = exact[0]
        return Resolution(top.dataset, phrase, top.score, f"exact match: {top.why}",
                          [c for c in found if c is not top])
    if len(exact) > 1:
        raise AmbiguousDataset(phrase, exact)
    if not found or found[0].score < THRESHOLD:
        closest = ", ".join(c.dataset.name for c in found[:5]) or "none"
        raise DatasetError(
            f"no dataset matches {phrase!r}; closest: {closest}",
            hint="see `vibeplot datasets list`, or give a local file with --dataset PATH",
        )
    top = found[0]
    if len(found) > 1 and top.score - found[1].score < MARGIN:
        close = [c for c in found if c.score >= THRESHOLD][:10]
        raise AmbiguousDataset(phrase, close)
    return Resolution(top.dataset, phrase, top.score, f"best match ({top.score:.2f}): {top.why}", found[1:])


def resolve_one(phrase: str, context: ResolveContext) -> Dataset:
    return resolve(phrase, context).dataset


#: how an ambiguous phrase is settled: ``choose(phrase, candidates) -> Candidate``
#: (the CLI asks on a TTY); None takes the best-scoring candidate
Chooser = Callable[[str, list[Candidate]], Candidate]
NONINTERACTIVE_WHY = "ambiguous; took the best match (non-interactive)"


def _warn(message: str) -> None:
    import sys

    print(f"Warning: {message}", file=sys.stderr)


def settle(phrase: str, context: ResolveContext, source: str, choose: Chooser | None = None,
           warn: Callable[[str], None] | None = None) -> Resolution:
    """:func:`resolve`, with an ambiguous phrase settled by ``choose``, else by taking the best
    candidate with a ``warn``-ing; the resolution's ``why`` starts with ``source`` (how the phrase
    was given)."""
    try:
        found = resolve(phrase, context)
    except AmbiguousDataset as err:
        options = err.candidates
        if choose is not None:
            picked = choose(phrase, options)
            why = f"{source}: ambiguous; chosen interactively"
        else:
            picked = options[0]
            why = f"{source}: {NONINTERACTIVE_WHY}"
            (warn or _warn)(f"dataset phrase {phrase!r} is ambiguous; using {picked.dataset.name}. Alternatives: "
                            + ", ".join(c.dataset.name for c in options[1:]) + " (name one with --dataset)")
        return Resolution(picked.dataset, phrase, picked.score, why, [c for c in options if c is not picked])
    return Resolution(found.dataset, phrase, found.score, f"{source}: {found.why}", found.alternatives)


def pick(given: str | None, named: str | None, benchmark, context: ResolveContext,
         choose: Chooser | None = None, warn: Callable[[str], None] | None = None) -> Resolution:
    """The dataset of a question, and how it was chosen (``Resolution.as_dict()`` goes into run.json).

    Precedence: ``given`` (``--dataset``: a local file, else a phrase) > ``named``, the dataset
    phrase found in the question (:func:`find_phrase`) > ``benchmark``, the benchmark question
    asked (its registered dataset) > the embedded sample.  Ambiguous phrases: :func:`settle`.
    """
    from vibeplot.core import config

    if given and Path(given).expanduser().exists():
        return Resolution(from_path(given), given, 1.0, "a local file given with --dataset")
    if given:
        return settle(given, context, f"--dataset {given!r}", choose, warn)
    if named:
        return settle(named, context, "named in the question", choose, warn)
    if benchmark is not None and benchmark.dataset:
        return settle(benchmark.dataset, context, f"benchmark question {benchmark.id}'s dataset", choose, warn)
    return settle(config.DEFAULT_DATASET_PHRASE, context, "no dataset named: the default sample", choose, warn)


def known_phrases() -> list[str]:
    """Phrases resolvers know (their optional ``phrases()`` attribute), normalised, longest first."""
    from vibeplot.core import plugins

    out: set[str] = set()
    for resolver in plugins.dataset_resolvers():
        phrases = getattr(resolver, "phrases", None)
        if phrases is not None:
            out.update(p for p in (normalise_phrase(x) for x in phrases()) if p)
    return sorted(out, key=lambda p: (-len(p), p))


_FRAME = r"(?:\b(?:in|on|from|using|with|for|of|over)\s+)?"
_TAIL = r"(?:\s+(?:sample|samples|dataset|datasets|data|file|files|events))?"


def find_phrase(question: str) -> str | None:
    """The longest known dataset phrase in ``question`` (normalised, whole words), or None."""
    text = normalise_phrase(question)
    for phrase in known_phrases():
        if re.search(rf"(?<![\w+']){re.escape(phrase)}(?![\w+'])", text):
            return phrase
    return None


def strip_phrase(question: str, phrase: str | None) -> str:
    """``question`` without the dataset phrase (and its "in the ... sample" frame), for
    matching it to a benchmark question.  Unchanged when there is no phrase."""
    if not phrase:
        return question
    text = normalise_phrase(question)
    return " ".join(re.sub(rf"{_FRAME}(?<![\w+']){re.escape(phrase)}(?![\w+']){_TAIL}", " ", text).split())


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
