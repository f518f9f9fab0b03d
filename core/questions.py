"""The benchmark question registry, and matching a user's text to a question.

>>> match("Plot the missing ET of all events").id
'adl-1'
>>> match("Plot the MET of events with at least one muon") is None
True
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources

from rapidfuzz import fuzz

#: a question whose normalised text scores at least this (0-100) against a
#: registered phrasing is taken to be that question
MATCH_THRESHOLD = 92.0


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    aliases: tuple[str, ...] = ()
    dataset: str = ""
    meaning: str = ""
    tags: tuple[str, ...] = field(default=())
    #: stack name -> an intended difference of that stack's plots from the others
    differences: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    #: known wrong readings: (script in the ``mistakes/`` folder of a stack's truth references
    #: (:attr:`vibeplot.core.stack.Stack.truth_references`), description)
    mistakes: tuple[tuple[str, str], ...] = ()
    #: stacks whose truth references give this question's truth values, best first (the
    #: registry's top-level ``truth`` unless the question names its own); any other installed
    #: stack with truth references comes after them (see :func:`vibeplot.core.ask.validate.truth_scripts`)
    truth: tuple[str, ...] = ()

    @property
    def reference_name(self) -> str:
        """File name of the reference solution in a stack's ``references/`` folder.

        >>> registry()["met-0jet"].reference_name
        'met0jet.py'
        """
        return reference_file(self.id)


def reference_file(question_id: str) -> str:
    """File name of ``question_id``'s reference solution: the id without dashes."""
    return question_id.replace("-", "") + ".py"


@functools.cache
def registry() -> dict[str, Question]:
    data = tomllib.loads(resources.files("vibeplot.core").joinpath("questions.toml").read_text("utf-8"))
    out = {}
    truth = tuple(data.get("truth", ()))
    for q in data["question"]:
        out[q["id"]] = Question(
            id=q["id"], text=q["text"], aliases=tuple(q.get("aliases", ())),
            dataset=q.get("dataset", ""), meaning=q.get("meaning", ""), tags=tuple(q.get("tags", ())),
            differences=dict(q.get("differences", {})),
            mistakes=tuple((m["script"], m["description"]) for m in q.get("mistakes", ())),
            truth=tuple(q.get("truth", truth)),
        )
    return out


def select(spec: str) -> list[Question]:
    """Questions named by ``spec``: comma-separated ids and/or tags, or ``all``.

    >>> [q.id for q in select("adl-1,met-0jet")]
    ['adl-1', 'met-0jet']
    >>> len(select("adl")), len(select("extra")), len(select("all"))
    (8, 6, 14)
    """
    questions = registry()
    out: list[Question] = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        if part == "all":
            found = list(questions.values())
        elif part in questions:
            found = [questions[part]]
        else:
            found = [q for q in questions.values() if part in q.tags]
        if not found:
            tags = sorted({t for q in questions.values() for t in q.tags})
            raise KeyError(f"unknown question or set {part!r} (sets: all, {', '.join(tags)}; "
                           "ids: see `vibeplot questions list`)")
        out += [q for q in found if q not in out]
    return out


_SYNONYMS = [
    (r"missing (transverse )?(energy|momentum|e_?t)|\betmiss\b|\bmet\b|e_?t\^?\{?miss\}?", " met "),
    (r"transverse momentum|p_?\{?t\}?\b", " pt "),
    (r"\bdelta ?r\b|δr|Δr", " dr "),
    (r"η|\beta\b", " eta "),
    (r"flavour", "flavor"),
    (r"\bplot(ting)? (of )?|\bdraw |\bmake (a )?(histogram|plot) of |\bhistogram (of )?|\bshow ", " "),
    (r"\b(that|which) (have|has)\b", " with "),
    (r"\b(the|a|an|please|can you|could you)\b", " "),
]
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
#: a dot that is not between two digits: the end of a sentence, not a decimal point
_SENTENCE_DOT = re.compile(r"(?<!\d)\.|\.(?!\d)")


@functools.cache
def _unkept(keep: str) -> re.Pattern:
    return re.compile(rf"[^\w{keep}]+")


def normalise_with(text: str, synonyms, keep: str) -> str:
    """The steps every text normaliser shares, around its own synonym table: lower case, the
    ``(pattern, replacement)`` substitutions of ``synonyms`` in order, every run of characters
    that is neither a word character nor in ``keep`` (the inside of a regex character class)
    becomes a space, so does a sentence dot (never a decimal point), whitespace collapsed.
    :func:`normalise` (questions) and :func:`vibeplot.core.resolver.normalise_phrase` use it.

    >>> normalise_with("Plot the MET, for pT > 40.5 GeV.", [(r"\\bplot\\b", " ")], keep="<>=.")
    'the met for pt > 40.5 gev'
    """
    out = text.lower()
    for pattern, replacement in synonyms:
        out = re.sub(pattern, replacement, out)
    out = _unkept(keep).sub(" ", out)
    out = _SENTENCE_DOT.sub(" ", out)
    return " ".join(out.split())


def normalise(text: str) -> str:
    """Lower case, unify physics synonyms (MET, pT, ...), drop punctuation.

    >>> normalise("Plot the missing transverse energy of events with pT > 40.")
    'met of events with pt > 40'
    """
    return normalise_with(text, _SYNONYMS, keep="<>=.|+-")


def match(text: str) -> Question | None:
    """The registered question ``text`` asks (by id or by wording), or None."""
    questions = registry()
    key = text.strip().lower()
    if key in questions:
        return questions[key]
    wanted = normalise(text)
    numbers = sorted(_NUMBER.findall(wanted))
    best, best_score = None, 0.0
    for q in questions.values():
        for phrasing in (q.text, *q.aliases):
            candidate = normalise(phrasing)
            if sorted(_NUMBER.findall(candidate)) != numbers:
                continue  # "pT > 30" is never the question that says "pT > 40"
            score = fuzz.ratio(wanted, candidate)
            if score > best_score:
                best, best_score = q, score
    return best if best_score >= MATCH_THRESHOLD else None
