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

    def prompt_block(self, heading: str | None = None) -> str:
        """The dataset section of the prompt (``heading``: its first line, for one of several datasets)."""
        lines = [heading or f"## Dataset: {self.title}", f"- Location: `{self.location}`"]
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

    def __init__(self, phrase: str, found: list[Candidate], source: str = ""):
        self.phrase = phrase
        self.candidates = found
        lines = "".join(f"\n  {c.dataset.name:32} {c.score:.2f}  {c.dataset.title}" for c in found)
        super().__init__(
            f"the dataset phrase {phrase!r}{f' ({source})' if source else ''} is ambiguous: "
            f"{len(found)} datasets fit it equally well:{lines}",
            hint=f"name one with --dataset NAME (e.g. --dataset {found[0].dataset.name}) or a more specific "
                 "phrase; on a terminal, vibeplot asks which (see `vibeplot datasets show NAME`)",
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

    45% is rapidfuzz's token_set_ratio (1 when one is a subset of the other), 45% the share
    of the phrase's words found (fuzzily) in the phrasing, so extra words the phrasing lacks
    cost score ("ttbar higgs" fits no ttbar sample well), and 10% the share of the phrasing's
    words found in the phrase, so only an exact match scores 1: "ttbar" fits "ttbar allhad"
    with 0.95, as it fits every other two-word ttbar alias.

    >>> phrase_score("ttbar", "ttbar allhad"), phrase_score("allhad ttbar", "ttbar allhad")
    ((0.95, False), (1.0, True))
    """
    from rapidfuzz import fuzz

    if not phrase or not phrasing:
        return 0.0, False
    if _tokens_equal(phrase, phrasing):
        return 1.0, True
    words = phrasing.split()
    wanted = phrase.split()
    covered = sum(1 for w in wanted if max(fuzz.ratio(w, x) for x in words) >= 85) / len(wanted)
    contained = sum(1 for x in words if max(fuzz.ratio(x, w) for w in wanted) >= 85) / len(words)
    score = 0.45 * fuzz.token_set_ratio(phrase, phrasing) / 100 + 0.45 * covered + 0.1 * contained
    return round(min(score, 0.999), 6), False


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
#: (the CLI asks on a TTY); without one an ambiguous phrase is an error
Chooser = Callable[[str, list[Candidate]], Candidate]


def _warn(message: str) -> None:
    import sys

    print(f"Warning: {message}", file=sys.stderr)


def settle(phrase: str, context: ResolveContext, source: str, choose: Chooser | None = None,
           warn: Callable[[str], None] | None = None) -> Resolution:
    """:func:`resolve`, with an ambiguous phrase settled by ``choose``; without a chooser it stays
    :class:`AmbiguousDataset` (exit code 2: the message lists the candidates, never a silent pick).
    A fuzzy (not exact) match is taken with a ``warn``-ing that says so.  The resolution's ``why``
    starts with ``source`` (how the phrase was given)."""
    try:
        found = resolve(phrase, context)
    except AmbiguousDataset as err:
        options = err.candidates
        if choose is None:
            raise AmbiguousDataset(phrase, options, source) from None
        picked = choose(phrase, options)
        return Resolution(picked.dataset, phrase, picked.score, f"{source}: ambiguous; chosen interactively",
                          [c for c in options if c is not picked])
    if not found.why.startswith("exact"):
        (warn or _warn)(f"dataset phrase {phrase!r} ({source}) is not a dataset name or alias; taking the "
                        f"closest, {found.dataset.name} ({found.score:.2f}); name one with --dataset")
    return Resolution(found.dataset, phrase, found.score, f"{source}: {found.why}", found.alternatives)


def pick(given: str | None, named: str | None, benchmark, context: ResolveContext,
         choose: Chooser | None = None, warn: Callable[[str], None] | None = None) -> Resolution:
    """The dataset of a question, and how it was chosen (``Resolution.as_dict()`` goes into run.json).

    Precedence: ``given`` (``--dataset``: a local file or a file URL, else a phrase) > ``named``, the dataset
    phrase found in the question (:func:`find_phrase`) > ``benchmark``, the benchmark question
    asked (its registered dataset) > the embedded sample.  Ambiguous phrases: :func:`settle`.
    """
    from vibeplot.core import config

    if given and Path(given).expanduser().exists():
        return Resolution(from_path(given), given, 1.0, "a local file given with --dataset")
    if given and is_url(given):
        return Resolution(from_url(given), given, 1.0, "a file URL given with --dataset")
    if given:
        return settle(given, context, f"--dataset {given!r}", choose, warn)
    if named:
        return settle(named, context, "named in the question", choose, warn)
    if benchmark is not None and benchmark.dataset:
        return settle(benchmark.dataset, context, f"benchmark question {benchmark.id}'s dataset", choose, warn)
    return settle(config.DEFAULT_DATASET_PHRASE, context, "no dataset named: the default sample", choose, warn)


def pick_all(given, named, benchmark, context: ResolveContext, choose: Chooser | None = None,
             warn: Callable[[str], None] | None = None) -> list[Resolution]:
    """The datasets of a question (several for a data/MC overlay or a stacked plot), each chosen as
    :func:`pick` chooses one: every ``given`` (repeated ``--dataset``) > every ``named`` phrase found
    in the question (:func:`find_phrases`) > the benchmark question's registered datasets > the embedded
    sample.  Each phrase follows :func:`settle`'s rules (an ambiguous one: exit 2 listing the candidates).
    A dataset chosen twice counts once."""
    given = [g for g in ([given] if isinstance(given, str) else list(given or ())) if g]
    named = [n for n in ([named] if isinstance(named, str) else list(named or ())) if n]
    registered = list(getattr(benchmark, "datasets", ()) or ()) if benchmark is not None else []
    if given:
        found = [pick(g, None, None, context, choose, warn) for g in given]
    elif named:
        found = [pick(None, n, None, context, choose, warn) for n in named]
    elif len(registered) > 1:
        found = [settle(p, context, f"benchmark question {benchmark.id}'s dataset", choose, warn) for p in registered]
    else:
        found = [pick(None, None, benchmark, context, choose, warn)]
    out: dict[str, Resolution] = {}
    for r in found:
        out.setdefault(r.dataset.location or r.dataset.name, r)
    return list(out.values())


def known_phrases() -> list[str]:
    """Phrases resolvers know (their optional ``phrases()`` attribute), normalised, longest first."""
    from vibeplot.core import plugins

    out: set[str] = set()
    for resolver in plugins.dataset_resolvers():
        phrases = getattr(resolver, "phrases", None)
        if phrases is not None:
            out.update(p for p in (normalise_phrase(x) for x in phrases()) if p)
    return sorted(out, key=lambda p: (-len(p), p))


#: words that make what follows them the data a question runs on ("in", "using", ...)
_SOURCE = r"in|on|from|using|use|over|dsid"
#: words that may stand between those and the phrase ("using mc23 ...", "in the ATLAS Run 3 ...")
_QUALIFIER = (r"(?:(?:atlas|cms|mc|mc\d\d\w?|simulated|simulation|official|nominal|run [23]|opendata|"
              r"[\d.]+ tev|physlite|nanoaod|daod|our|my|this|that)\s+)*")
#: words after a phrase that make it a sample's name ("... sample", "... events")
_SAMPLE = r"samples?|datasets?|data|files?|ntuples?|mc|simulation|events|containers?|daods?|physlite|nanoaod|slices?"
#: a phrase containing one of these names a sample by itself ("2025 data", "mc23-jz2", "open data jz2")
_NAMES_SAMPLE = re.compile(rf"\b(?:{_SAMPLE}|opendata|mc\d\d\w*|data\d\d\w*|run\d{{4}}\w*)\b")
#: a rucio DID: scope:name, the name dotted ("mc23_13p6TeV:mc23_13p6TeV.601229. ... _p6697")
_DID = re.compile(r"(?<![\w.:/-])([A-Za-z][\w.-]*:[A-Za-z0-9][\w-]*(?:\.[\w-]+)+)")


def find_did(text: str) -> str | None:
    """The first rucio DID written in ``text``, or None.

    >>> find_did("Plot MET using mc23_13p6TeV:mc23_13p6TeV.701005.Sh_2214_lllvjj.deriv.DAOD_PHYSLITE.e8543_p6697.")
    'mc23_13p6TeV:mc23_13p6TeV.701005.Sh_2214_lllvjj.deriv.DAOD_PHYSLITE.e8543_p6697'
    >>> find_did("root://eospublic.cern.ch//eos/a.root"), find_did("ratio 1:2.5")
    (None, None)
    """
    found = _DID.search(text)
    return found.group(1) if found else None


def _names_data(text: str, start: int, end: int, phrase: str) -> bool:
    """Whether ``phrase``, at ``text[start:end]``, is used as the name of the data: a phrase that
    says "sample"/"data"/a campaign by itself, or one after "in"/"from"/"using"/... (qualifiers
    such as "mc23" or "the ATLAS" between them allowed) or before "sample"/"dataset"/"events"."""
    if _NAMES_SAMPLE.search(phrase):
        return True
    if re.search(rf"\b(?:{_SOURCE})\s+{_QUALIFIER}$", text[:start]):
        return True
    return bool(re.match(rf"\s+(?:{_SAMPLE})\b", text[end:]))


def find_phrase(question: str) -> str | None:
    """The dataset ``question`` names, as a phrase to resolve, or None.

    Only where the question names its data: a rucio DID, or a known dataset phrase (longest first,
    whole words, after normalising) used as a sample's name (:func:`_names_data`): "in the
    semileptonic ttbar sample", "using mc23 all-hadronic ttbar", "from 2025 data".  Selection words
    that happen to read like a process are not a dataset ("events with a Z to mu mu pair").

    >>> find_phrase("Plot the jet pT in the semileptonic ttbar sample")
    'semileptonic ttbar'
    >>> find_phrase("For events with a Z to mu mu candidate, plot the MET") is None
    True
    """
    did = find_did(question)
    if did:
        return did
    text = normalise_phrase(question)
    for phrase in known_phrases():
        for found in re.finditer(rf"(?<![\w+']){re.escape(phrase)}(?![\w+'])", text):
            if _names_data(text, found.start(), found.end(), phrase):
                return phrase
    return None


def find_phrases(question: str) -> list[str]:
    """Every dataset ``question`` names (:func:`find_phrase`'s rules), in the order written: a question
    about several samples ("in the toy data and the toy Z->mumu MC") names each.  Longer phrases
    win over the phrases inside them; the same phrase twice counts once.

    >>> find_phrases("Plot the MET in the toy ttbar MC and the toy Z->mumu MC, stacked")
    ['toy ttbar mc', 'toy zmumu mc']
    """
    did = find_did(question)
    if did:
        return [did]
    text = normalise_phrase(question)
    taken: list[tuple[int, int, str]] = []
    for phrase in known_phrases():  # longest first
        for found in re.finditer(rf"(?<![\w+']){re.escape(phrase)}(?![\w+'])", text):
            start, end = found.span()
            if any(start < e and s < end for s, e, _ in taken):
                continue
            if _names_data(text, start, end, phrase):
                taken.append((start, end, phrase))
    return list(dict.fromkeys(p for _, _, p in sorted(taken)))


def strip_phrase(question: str, phrase: str | None) -> str:
    """``question`` without the dataset phrase (and its "in the ... sample" frame), for
    matching it to a benchmark question.  Unchanged when there is no phrase."""
    if not phrase:
        return question
    frame = rf"(?:\b(?:{_SOURCE}|with|for|of)\s+(?:the\s+)?{_QUALIFIER})?"
    tail = rf"(?:\s+(?:{_SAMPLE}))?"
    if find_did(question) == phrase:  # as written: a DID does not survive normalising
        return " ".join(re.sub(rf"{frame}{re.escape(phrase)}{tail}", " ", question, flags=re.I).split())
    text = normalise_phrase(question)
    return " ".join(re.sub(rf"{frame}(?<![\w+']){re.escape(phrase)}(?![\w+']){tail}", " ", text).split())


def _layout(target, shown_as: str) -> tuple[str, str, str]:
    """(main tree, description, prompt notes) of the ROOT file ``target`` (a path or URL)."""
    import uproot

    try:
        with uproot.open(target) as root_file:
            trees = {k.split(";")[0]: v for k, v in root_file.items(filter_classname="TTree")}
            if not trees:
                raise DatasetError(f"{shown_as} holds no TTree")
            tree_name, tree = max(trees.items(), key=lambda kv: kv[1].num_entries)
            branches = [f"{b.name} ({b.typename})" for b in tree.branches]
            entries = tree.num_entries
    except DatasetError:
        raise
    except Exception as err:  # uproot raises many kinds for non-ROOT input (and the network more)
        raise DatasetError(f"cannot read {shown_as} as a ROOT file: {err}") from None
    shown = branches[:150]
    notes = "- Branches (name, type): " + ", ".join(shown)
    if len(branches) > len(shown):
        notes += f", ... ({len(branches) - len(shown)} more; list them with uproot)"
    description = (f"{entries} entries in tree `{tree_name}`; other trees: "
                   + (", ".join(t for t in trees if t != tree_name) or "none"))
    return tree_name, description, notes


def from_path(path: str) -> Dataset:
    """A local ROOT file given by path; its trees and branches go into the prompt."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise DatasetError(f"dataset file {path} does not exist")
    tree_name, description, notes = _layout(file, path)
    return Dataset(
        name=file.name,
        title=f"local file {file.name}",
        location=str(file.resolve()),
        format="root-file",
        tree=tree_name,
        description=description,
        prompt_notes=notes,
        metadata={"given_as_path": True},
    )


# -- files on a server ------------------------------------------------------------------------
#: URL schemes of one ROOT file on a server that ``--dataset`` accepts
URL_SCHEMES = ("root://", "https://", "http://")
#: the extra that lets uproot read ``root://`` (fsspec-xrootd and the XRootD client)
XROOTD_EXTRA = "xrootd"


def is_url(location: str) -> bool:
    """Whether ``location`` is a file URL that uproot (and ROOT) read over the network.

    >>> is_url("root://eospublic.cern.ch//eos/root-eos/benchmark/Run2012B_SingleMu.root"), is_url("/data/a.root")
    (True, False)
    """
    return str(location).lower().startswith(URL_SCHEMES)


def check_readable(location: str) -> None:
    """Raise :class:`~vibeplot.core.errors.ConfigError` naming the ``xrootd`` extra when ``location``
    is a ``root://`` URL and fsspec-xrootd is not installed (uproot reads root:// only with it)."""
    if str(location).lower().startswith("root://"):
        from vibeplot.core.errors import require_extra

        require_extra(XROOTD_EXTRA, "fsspec_xrootd", "XRootD", needed_for=f"reading {location}")


def from_url(url: str) -> Dataset:
    """One ROOT file on a server (``root://``, ``https://``, ``http://``), read with uproot here;
    its trees and branches go into the prompt, as for :func:`from_path`."""
    check_readable(url)
    tree_name, description, notes = _layout(url, url)
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or url
    return Dataset(
        name=name,
        title=f"remote file {name}",
        location=url,
        format="root-file",
        tree=tree_name,
        description=description,
        prompt_notes=notes,
        metadata={"given_as_url": True},
    )


def file_identity(location: str) -> str:
    """What identifies the content of a ROOT file on a server, for caches: its UUID and end offset
    (both in the file header, read with uproot; a file written again gets a new UUID)."""
    import uproot

    with uproot.open(location) as root_file:
        return f"{root_file.file.uuid}|{root_file.file.fEND}"
