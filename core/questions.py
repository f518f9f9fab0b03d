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


@functools.cache
def registry() -> dict[str, Question]:
    data = tomllib.loads(resources.files("vibeplot.core").joinpath("questions.toml").read_text("utf-8"))
    out = {}
    for q in data["question"]:
        out[q["id"]] = Question(
            id=q["id"], text=q["text"], aliases=tuple(q.get("aliases", ())),
            dataset=q.get("dataset", ""), meaning=q.get("meaning", ""), tags=tuple(q.get("tags", ())),
        )
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


def normalise(text: str) -> str:
    """Lower case, unify physics synonyms (MET, pT, ...), drop punctuation."""
    out = text.lower()
    for pattern, replacement in _SYNONYMS:
        out = re.sub(pattern, replacement, out)
    out = re.sub(r"[^\w<>=.|+-]+", " ", out)
    out = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", out)  # sentence dots, not decimal points
    return " ".join(out.split())


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
