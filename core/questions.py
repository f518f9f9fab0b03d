"""The benchmark question registry, and matching a user's text to a question (:func:`explain`).

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
    #: a question about several samples (a data/MC overlay, a stacked plot): their dataset phrases, in
    #: the order its reference solutions read them (``{{dataset1}}``, ``{{dataset2}}``, ...); ``dataset`` is the first
    datasets: tuple[str, ...] = ()

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
            dataset=q.get("dataset", "") or (q.get("datasets") or [""])[0], datasets=tuple(q.get("datasets", ())),
            meaning=q.get("meaning", ""), tags=tuple(q.get("tags", ())),
            differences=dict(q.get("differences", {})),
            mistakes=tuple((m["script"], m["description"]) for m in q.get("mistakes", ())),
            truth=tuple(q.get("truth", truth)),
        )
    return out


def select(spec: str) -> list[Question]:
    """Questions named by ``spec``: comma-separated ids and/or tags, or ``all``.

    >>> [q.id for q in select("adl-1,met-0jet")]
    ['adl-1', 'met-0jet']
    >>> len(select("adl")), len(select("extra")), len(select("samples")), len(select("all"))
    (8, 6, 2, 18)
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


# --- recognising a benchmark question as people word it ---------------------------------------
#
# A question's wording is reduced to a *signature*: the physics words it uses (objects: jets,
# muons, ...; quantities: pT, MET, mass, ...), its numbers with how each is compared (> 40,
# < 1, between 60 and 120, closest to 172.5), its charge and flavour requirements, and the
# words left over.  A question matches a registered one when the signatures agree: the same
# physics words, the same numbers compared compatibly, the same charge/flavour, and no
# left-over word the registered wordings or a list of plain-English filler do not explain.
# Articles, word order, units and notations ("25GeV", "|η|<1", "abs(eta) < 1", "0.4 in
# Delta R", "ΔR < 0.4") do not matter; a changed cut, object, charge or quantity does.

_N = r"\d+(?:\.\d+)?"
_OBJ = r"(?:jets?|bjets?|muons?|electrons?|leptons?|photons?|taus?|trijets?)"
_NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_NW = "|".join(_NUMBER_WORDS)


def _num(value: float) -> str:
    return f"{value:g}"


def _units(m: re.Match) -> str:
    scale = {"gev": 1.0, "mev": 1e-3, "tev": 1e3}[m.group(2)]
    return f" {_num(float(m.group(1)) * scale)} gev "


#: an integrated luminosity: "10 fb^-1", "10 fb-1", "10 fb^{-1}", "10 fb⁻¹", "10/fb", "10 ifb",
#: "10 inverse femtobarns", "10 inverse fb"; ab, pb and nb too (after the dashes are ASCII)
_INV_BARN = re.compile(
    rf"(?P<value>{_N})\s*(?:"
    r"(?P<u1>[afpn])b\s*(?:\$?\^\s*\{?\s*-\s*1\s*\}?\$?|⁻¹|-1)(?!\d|\.\d)"
    r"|/\s*(?P<u2>[afpn])b\b|i(?P<u3>[afpn])b\b"
    r"|inverse\s+(?:(?P<u4>atto|femto|pico|nano)\s*-?\s*barns?|(?P<u5>[afpn])b)\b)",
    re.I,
)
#: fb per unit: multiply (ab) or divide (pb, nb), so that 300 pb^-1 is 0.3 fb^-1 exactly as written
_BARN_SCALE = {"a": (1e3, 1), "atto": (1e3, 1), "f": (1, 1), "femto": (1, 1), "p": (1, 1e3), "pico": (1, 1e3),
               "n": (1, 1e6), "nano": (1, 1e6)}


def _inverse_barns(m: re.Match) -> float:
    """The luminosity ``m`` (of :data:`_INV_BARN`) says, in fb^-1."""
    unit = next(u for u in (m.group(f"u{i}") for i in range(1, 6)) if u).lower()
    mul, div = _BARN_SCALE[unit]
    return float(m.group("value")) * mul / div


def luminosity_fb(text: str) -> float | None:
    """The integrated luminosity a question states, in fb^-1 (the first one), or None.

    >>> [luminosity_fb(t) for t in ("normalised to 10 fb^-1", "to 300 pb^-1", "1 ab^-1", "10/fb",
    ...                             "10 inverse femtobarns", "10 fb⁻¹", "10 fb−1", "MET above 10 GeV")]
    [10.0, 0.3, 1000.0, 10.0, 10.0, 10.0, 10.0, None]
    """
    m = _INV_BARN.search(re.sub(r"[−–—]", "-", text))
    return _inverse_barns(m) if m else None


def _lumi(m: re.Match) -> str:  # every way of writing a luminosity: its value in fb^-1 and the word ifb
    return f" {_num(_inverse_barns(m))} ifb "


def _more_than(m: re.Match) -> str:  # "more than two jets" is "at least 3 jets"
    n = int(m.group(2))
    return f" gt {n + 1} " if m.group(1) in ("more than", ">", "over") else f" lt {max(n - 1, 0)} "


def _symmetric_eta(m: re.Match) -> str:  # "-1 < eta < 1", "eta between -1 and 1": |eta| < 1
    low, high = float(m.group(1)), float(m.group(2))
    return f" eta lt {_num(high)} " if low == high else f" eta between -{_num(low)} and {_num(high)} "


#: (pattern, replacement) in order: notations and synonyms to canonical words
_STEPS: list[tuple[str, object]] = [
    # characters and notations
    (r"≥|=>", " >= "), (r"≤|=<", " <= "), (r"[−–—]", "-"), (r"η", "eta"), (r"[Δδ]", "delta "),
    (r"μ", "mu"), (r"[φϕ]", "phi"), (r"’", "'"), (r"n't\b", " not"),
    (r"\b(?:four|4)[- ]?(?:momentum|momenta|vectors?)\b", " "),
    (r"\bat\s+least\s+(?:one|1)\b|\b(?:one|1)\s+or\s+more\b", " a "),  # existence, as "a"/"an" says
    (r"(\d),(\d{3})\b", r"\1\2"),
    (_INV_BARN, _lumi),
    (rf"\b({_N})\s*k\b", lambda m: f" {_num(float(m.group(1)) * 1000)} "),
    (rf"({_N})\s*(gev|mev|tev)\b", _units),
    # masses people name instead of the number
    (r"\b(?:the\s+)?(?:top[- ]?(?:quark\s+)?mass|mass\s+of\s+(?:the\s+)?top(?:\s+quark)?|m_?\{?top\}?)\b",
     " 172.5 gev mass "),
    (r"\b(?:the\s+)?z[- ]?(?:boson\s+)?(?:mass|pole)|mass\s+of\s+(?:the\s+)?z(?:\s+boson)?\b|\bm_?\{?z\}?\b",
     " 91.2 gev mass "),
    # MET before pT ("missing pT"), pT before "highest-pT"
    (r"\bmissing\s+(?:transverse\s+)?(?:energy|momentum|e_?\{?t\}?|p_?\{?t\}?)\b|\b[ep]_?\{?t\}?\s*\^?\s*\{?miss\}?"
     r"|\bmissinget\b|\bmet\b", " met "),
    (r"\btransverse\s+momen(?:tum|ta)\b|\bp_?\{?t\}?\b", " pt "),
    # a GeV threshold on an object is a pT cut: "jets above 40 GeV", "40 GeV jets"
    (rf"\b({_OBJ})\s+(?:with\s+|of\s+|having\s+)?(?=(?:above|over|greater than|more than|harder than|exceeding|>=?)\s*{_N}\s*gev)",
     r"\1 pt "),
    (rf"\b({_N})\s*gev\s+({_OBJ})\b", r"\2 pt > \1 gev"),
    (rf"\b(closest|nearest)\s+(?:to\s+)?({_N})\s*gev", r" mass closest \2 gev "),
    # quantities
    (r"\btransverse\s+mass(?:es)?\b|\bm_?\{?t\}?\b", " mt "),
    (r"\bm_?\{?(?:mumu|mu\s*mu)\}?(?![a-z])", " mass muon pair "),
    (r"\bm_?\{?ee\}?\b", " mass electron pair "), (r"\bm_?\{?ll\}?\b", " mass lepton pair "),
    (r"\bm_?\{?jjj\}?\b", " mass trijet "),
    (r"\binvariant\s+mass(?:es)?\b|\bmass(?:es)?\b", " mass "),
    (r"\babs\s*\(\s*eta\s*\)|\|\s*eta\s*\||\babsolute\s+(?:pseudo-?rapidity|eta)\b|\bpseudo-?rapidity\b",
     " eta "),
    (rf"-\s*({_N})\s*<=?\s*eta\s*<=?\s*\+?({_N})", _symmetric_eta),
    (rf"\beta\s+between\s+-\s*({_N})\s+and\s+\+?({_N})", _symmetric_eta),
    (r"\bcentral\b|\bforward\b", " eta "),
    (r"\bdelta\s*-?\s*r\b|\bdeltar\b|\bdr\b|\bangular\s+(?:distance|separation)\b", " dr "),
    (r"\bazimuth(?:al\s+angle)?\b", " phi "),
    # objects
    (r"\bb[- ]?tagged\s+jets?\b|\bb[- ]?jets?\b", " bjets "),
    (r"\bb[- ]?tag(?:ging)?(?:\s+(?:discriminant|discriminator|score|value|weight|output)s?)?\b|\bbtag\w*",
     " btag "),
    (r"\b(?:tri-?jets?|(?:three|3)[- ]jet\s+(?:system|combination|object|candidate)s?|jet\s+triplets?"
     r"|triplets?\s+of\s+jets|triplets?)\b", " trijet "),
    (r"\bmu\s*\+\s*mu\s*-|\bmu\s*-\s*mu\s*\+", " os muon pair "),
    (r"\be\s*\+\s*e\s*-|\be\s*-\s*e\s*\+", " os electron pair "),
    (r"\bdi-?muons?\b|\bmu\s?mu\b", " muon pair "),
    (r"\bdi-?electrons?\b", " electron pair "),
    (r"\bdi-?leptons?\b", " lepton pair "),
    (r"\b(?:electrons?|e)\s*(?:and|or|/|\+|,)\s*(?:muons?|mu)\b|\b(?:muons?|mu)\s*(?:and|or|/|\+|,)\s*(?:electrons?|e)\b"
     r"|\b(?:light|charged)[- ]leptons?\b", " leptons "),
    # charge and flavour
    (r"\bz(?:[- ]boson)?\s+candidates?\b", " pair "),  # the Z candidate: a lepton pair
    (r"\btop(?:[- ]quark)?[- ]candidates?\b", " trijet "),
    (r"\bsfos\b|\bossf\b", " sf os "),
    (r"\bsame[- ]?flavou?r(?:ed)?\b|\bsf\b", " sf "),
    (r"\b(?:different|opposite)[- ]?flavou?r(?:ed)?\b|\bdf\b", " df "),
    (r"\bopposite(?:ly)?[- ]?(?:charged?|signs?)\b|\bof\s+opposite\s+(?:charges?|signs?)\b|\bos\b", " os "),
    (r"\bsame[- ]?(?:charged?|signs?)\b|\blike[- ]?signs?\b|\bof\s+(?:the\s+)?same\s+(?:charges?|signs?)\b|\bss\b",
     " ss "),
    (r"\b(?:two|2)\s+((?:(?:os|ss|sf|df)\s+)+)(muon|electron|lepton)s\b", r" \1 \2 pair "),
    (r"\bpairs?\s+of\s+((?:(?:os|ss|sf|df)\s+)*)(muon|electron|lepton|jet)s?\b", r" \1 \2 pair "),
    # what is done with them
    (r"\bnumber\s+of\b|\bmultiplicity\b|\bhow\s+many\b|\bcount\s+of\b|\bcount\b", " count "),
    (r"\bn_?\{?(jets?|muons?|electrons?|leptons?)\}?\b", r" count \1 "),
    (r"\bh_?\{?t\}?\b", " sum pt jet "),
    (r"\bscalar\b|\bsummed\b", " sum "),
    (r"\b(?:two|2)\s+(?:leading|hardest|highest[- ]*pt|most\s+energetic)\b|\bleading\s+(?:two|2)\b"
     r"|\bleading\s+and\s+sub-?leading\b|\bfirst\s+(?:two|2)\b(?=\s+jet)", " leading2 "),
    (r"\b(?:three|3)\s+(?:leading|hardest|highest[- ]*pt|most\s+energetic)\b|\bleading\s+(?:three|3)\b",
     " leading3 "),
    (r"\bsub-?leading\b|\bsecond(?:[- ]leading|[- ]hardest)?\b(?=\s+(?:jet|muon|electron|lepton|photon))",
     " subleading "),
    (r"\bfirst\b(?=\s+(?:jet|muon|electron|lepton|photon))", " leading "),
    (r"\bleading\b|\bhardest\b|\bhighest[- ]*pt\b|\bmost\s+energetic\b|\blead\b", " leading "),
    (r"\bmaximum\b|\bmax\b|\blargest\b|\bhighest\b|\bbiggest\b", " max "),
    (r"\bminimum\b|\bmin\b|\bsmallest\b|\blowest\b", " min "),
    (r"\bclosest\b|\bnearest\b", " closest "),
    (r"\boverlap(?:s|ping)?\b", " within "),
    (r"\boutside(?:\s+of)?\b", " not in "),
    # counts and comparisons
    (rf"\b(?:no|zero|without(?:\s+any)?)\s+({_OBJ})\b", r" 0 \1 "),
    (r"\b(?:no|without(?:\s+any)?)\s+(?:cuts?|selections?|requirements?)\b", " "),
    (rf"\b({_NW})\b(?=\s+(?:or\s+(?:more|fewer|less)\s+)?(?:(?:light|charged|good|os|ss|sf|df)\s+)*{_OBJ}\b)",
     lambda m: f" {_NUMBER_WORDS[m.group(1)]} "),
    (rf"\b(at\s+least|at\s+most|exactly|more\s+than|fewer\s+than|less\s+than)\s+({_NW})\b",
     lambda m: f" {m.group(1)} {_NUMBER_WORDS[m.group(2)]} "),
    (rf"({_N})\s*(?:gev\s*)?(?:or\s+more|or\s+above|and\s+above|or\s+higher|or\s+greater|\+)(?![\w+])", r" gt \1 "),
    (rf"({_N})\s*(?:gev\s*)?(?:or\s+fewer|or\s+less|or\s+below)\b", r" lt \1 "),
    (rf"(more than|fewer than|>|<|over)\s*(\d+)\s+(?=(?:(?:light|charged|good|os|ss|sf|df)\s+)*{_OBJ}\b)", _more_than),
    (rf"(-?{_N})\s*<=?\s*([a-z_ ]{{1,30}}?)\s*<=?\s*(-?{_N})", r" \2 between \1 and \3 "),
    (rf"\bfrom\s+({_N})\s*(?:gev\s*)?to\s+({_N})", r" between \1 and \2 "),
    (rf"\b({_N})\s*(?:gev\s*)?-\s*({_N})\b", r" between \1 and \2 "),
    (rf"\[\s*({_N})\s*,\s*({_N})\s*\]", r" between \1 and \2 "),
    (rf"(?:\b(?:at\s+least|above|over|greater\s+than|more\s+than|larger\s+than|higher\s+than|harder\s+than|exceeding)\b|>=?)\s*(?=-?{_N})",
     " gt "),
    (rf"(?:\b(?:at\s+most|below|under|less\s+than|smaller\s+than|lower\s+than|softer\s+than|up\s+to)\b|<=?)\s*(?=-?{_N})",
     " lt "),
    (r"\bexactly\b|==?", " eq "),
]

#: canonical physics words: objects and quantities (``trijet`` implies ``jet``)
OBJECTS = frozenset({"jet", "bjet", "muon", "electron", "lepton", "photon", "tau", "trijet"})
QUANTITIES = frozenset({"met", "pt", "eta", "phi", "mass", "mt", "dr", "btag", "sum", "count", "pair", "leading",
                        "leading2", "leading3", "subleading", "max", "min", "closest", "weighted"})
CHARGES = frozenset({"os", "ss", "sf", "df"})
_PLURALS = {"jets": "jet", "bjets": "bjet", "muons": "muon", "electrons": "electron", "leptons": "lepton",
            "photons": "photon", "taus": "tau", "trijets": "trijet", "pairs": "pair"}
#: how a number is compared: the words (after :data:`_STEPS`) that say it
_COMPARATORS = {"gt": ">", "lt": "<", "within": "<", "eq": "=", "closest": "~", "between": "range"}
#: words that turn the comparison after them around ("not within 0.4" is "> 0.4")
_NEGATIONS = frozenset({"not", "no", "excluding", "exclude", "except", "outside", "veto", "vetoing", "removing",
                        "remove", "never"})
_FLIP = {">": "<", "<": ">"}
#: plain-English words a plot request may use without changing what is plotted
FILLER = frozenset("""
a about after all also among amongst an and any are as at be been being both build built but by can
calculate candidate candidates choose chosen collection combination combinations compute consider
consisting constituent constituents contain containing contains could create data dataset define
display distribution distributions do does draw each entire entries entry event events every file
fill find first for form formed four from full gev get give given has have having here histogram histograms
histogrammed histogramme i in individual into is it its itself i'd just keep let like lies look looking
m made make me my need object objects of on one ones only or other others over pass per pick plot plots
plotted plotting please plus produce quantity remaining require required requirement requires requiring
respective same sample see select selected
selecting selection show single so such system take than that the their them then there these they
this those to together up us use using value values variable versus vs want we what where whose which
while who whole window with within would you your away built respectively spectrum spectra it's separately
""".split())


@dataclass(frozen=True)
class Signature:
    """What a question's wording says, for matching (see :func:`signature`)."""

    #: canonical physics words: objects (:data:`OBJECTS`) and quantities (:data:`QUANTITIES`)
    words: frozenset[str]
    #: (value, comparison): ">", "<", "=", "~" (closest to), "range", or None (not said)
    numbers: frozenset[tuple[float, str | None]]
    #: charge and flavour requirements: "os", "ss", "sf" (only with leptons of both kinds), "df"
    charge: frozenset[str]
    #: every other word
    rest: frozenset[str]

    def describe(self) -> str:
        objects = sorted(self.words & OBJECTS)
        quantities = sorted(self.words - OBJECTS)
        return (f"objects {objects}, quantities {quantities}, numbers {_numbers_text(self.numbers)}, "
                f"charge/flavour {sorted(self.charge) or 'none'}")


def _numbers_text(numbers) -> str:
    parts = sorted(numbers, key=lambda n: (n[0], n[1] or ""))
    return "[" + ", ".join(f"{op} {_num(v)}" if op else _num(v) for v, op in parts) + "]"


def canonical(text: str) -> str:
    """``text`` with notations and synonyms replaced by canonical words (:data:`_STEPS`).

    >>> canonical("Plot the jet pT for |η|<1.0 and 25GeV")
    'plot the jet pt for eta lt 1.0 and 25 gev'
    >>> canonical("MET of events with two or more jets above 40 GeV")
    'met of events with gt 2 jets pt gt 40 gev'
    """
    out = text.lower()
    for pattern, replacement in _STEPS:
        out = re.sub(pattern, replacement, out)
    out = re.sub(r"[^\w.\-']+|(?<!\d)\.|\.(?!\d)|-(?!\d)|'s\b", " ", out)
    return " ".join(re.sub(r"(?<=\w)-(?=\d)", " ", out).split())


def _number(token: str) -> float | None:
    try:
        return float(token)
    except ValueError:
        return None


def signature(text: str) -> Signature:
    """The :class:`Signature` of a question's wording.

    >>> s = signature("MET of events with an OS muon pair, 60 < m_μμ < 120 GeV")
    >>> sorted(s.words), _numbers_text(s.numbers), sorted(s.charge)
    (['mass', 'met', 'muon', 'pair'], '[range 60, range 120]', ['os'])
    >>> _numbers_text(signature("jets not within 0.4 in Delta R of any lepton").numbers)
    '[> 0.4]'
    """
    tokens = [_PLURALS.get(t, t) for t in canonical(text).split()]
    words, charge, rest, numbers = set(), set(), set(), set()
    segment: list[str] = []  # the tokens since the previous number
    pending: list[str] = []  # negated comparisons no number followed yet ("don't overlap ..., ΔR < 0.4")
    ranged = 0
    for token in [*tokens, None]:  # None: the end, where the last segment's negations are settled
        value = _number(token) if token is not None else None
        if token is None or (value is not None and ranged):
            # a negation that turned no comparison around ("all jets except the leading one") is a
            # word like any other: the registered question must say it too
            rest.update(t for t in segment if t in _NEGATIONS)
            if token is None:
                break
        if value is None:
            segment.append(token)
            if token in OBJECTS or token in QUANTITIES:
                words.add(token)
            elif token in CHARGES:
                charge.add(token)
            elif token not in _COMPARATORS and token not in _NEGATIONS and token != "gev":
                rest.add(token)
            continue
        op, negated = None, False
        if ranged:
            op, ranged = "range", ranged - 1
        else:
            said = [j for j, t in enumerate(segment) if t in _COMPARATORS]
            # a negation up to 4 words before a comparison turns it around; the last comparison
            # before the number is its own, a negated earlier one waits for a number compared alike
            turned = [j for j in said if any(t in _NEGATIONS for t in segment[max(0, j - 4):j])]
            used = {k for j in turned for k in range(max(0, j - 4), j)}
            rest.update(t for k, t in enumerate(segment) if t in _NEGATIONS and k not in used)
            if said:
                op = _COMPARATORS[segment[said[-1]]]
                ranged = 1 if op == "range" else 0
                negated = said[-1] in turned
                waiting = [_COMPARATORS[segment[j]] for j in turned if j != said[-1]]
                if negated and op in waiting:
                    waiting.remove(op)  # "excluding jets within ΔR < 0.4": one negated comparison
                pending += waiting
                if not negated and op in pending:
                    negated = True
                    pending.remove(op)
            if negated:
                op = _FLIP.get(op, op)
        numbers.add((value, op))
        segment = []
    if "trijet" in words:
        words.add("jet")
    if "lepton" not in words:
        charge.discard("sf")  # a pair of muons is same-flavour anyway
    return Signature(frozenset(words), frozenset(numbers), frozenset(charge), frozenset(rest - {"and"}))


def _compatible(a: str | None, b: str | None) -> bool:
    return a == b or a is None or b is None


def _numbers_missing(have, want) -> list[tuple[float, str | None]]:
    """The numbers of ``have`` that ``want`` lacks (same value, a compatible comparison)."""
    return [n for n in have if not any(n[0] == m[0] and _compatible(n[1], m[1]) for m in want)]


def differences(asked: Signature, registered: Signature, explained: frozenset[str]) -> list[str]:
    """Why ``asked`` is not the question ``registered``: empty when they match.  ``explained``:
    words the question's registered wordings use (left-over words in them are fine)."""
    from rapidfuzz import fuzz

    out = []
    for kind, pool in (("objects", OBJECTS), ("quantities", QUANTITIES)):
        extra, missing = sorted((asked.words - registered.words) & pool), sorted((registered.words - asked.words) & pool)
        if extra or missing:
            out.append(f"{kind} differ" + (f": asked also {extra}" if extra else "")
                       + (f"{';' if extra else ':'} registered also {missing}" if missing else ""))
    extra, missing = _numbers_missing(asked.numbers, registered.numbers), _numbers_missing(registered.numbers, asked.numbers)
    if extra or missing:
        out.append(f"numbers differ: asked {_numbers_text(asked.numbers)}, registered {_numbers_text(registered.numbers)}")
    if asked.charge != registered.charge:
        out.append(f"charge/flavour differ: asked {sorted(asked.charge) or 'none'}, "
                   f"registered {sorted(registered.charge) or 'none'}")
    known = explained | FILLER
    unexplained = sorted(w for w in asked.rest
                         if w not in known and not (len(w) > 4 and any(fuzz.ratio(w, k) >= 88 for k in known)))
    if unexplained:
        out.append(f"words not in the registered question: {unexplained}")
    return out


@dataclass(frozen=True)
class Match:
    """How a text was matched to a registered question (:func:`explain`)."""

    question: Question | None
    #: "id" (the text is the id), "wording" (the signatures agree), or "none"
    how: str
    #: the registered wording it agreed with (for "wording")
    phrasing: str = ""
    #: why: what agreed, or for "none" why the closest questions did not match
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"id": self.question.id if self.question else None, "how": self.how, "phrasing": self.phrasing,
                "reasons": list(self.reasons)}


@functools.cache
def _registered() -> tuple[tuple[Question, str, Signature, frozenset[str], str], ...]:
    """Every registered wording: (question, wording, its signature, the words of all the question's
    wordings, its canonical text)."""
    out = []
    for q in registry().values():
        phrasings = (q.text, *q.aliases)
        words = frozenset(w for p in phrasings for w in signature(p).rest)
        out += [(q, p, signature(p), words, canonical(p)) for p in phrasings]
    return tuple(out)


def _names_samples(text: str) -> bool:
    """Whether ``text`` names at least two datasets, as a question about several samples does."""
    from vibeplot.core.resolver import find_phrases

    return len(find_phrases(text)) > 1


def explain(text: str) -> Match:
    """The registered question ``text`` asks, and why (or why none).

    >>> explain("adl-5").how, explain("Plot the MET of all events").question.id
    ('id', 'adl-1')
    >>> m = explain("Jet pT for jets with abs(eta) < 1.5")
    >>> m.question, m.reasons[0]
    (None, 'closest: adl-3: numbers differ: asked [< 1.5], registered [< 1]')
    """
    questions = registry()
    key = text.strip().lower()
    if key in questions:
        return Match(questions[key], "id", reasons=(f"the text is the id {key}",))
    from rapidfuzz import fuzz

    asked, wording = signature(text), canonical(text)
    found: dict[str, tuple[Question, str]] = {}
    near: dict[str, tuple[tuple[int, float], list[str]]] = {}  # id -> (rank, differences)
    for q, phrasing, registered, words, registered_text in _registered():
        diff = differences(asked, registered, words)
        if not diff:
            found.setdefault(q.id, (q, phrasing))
            continue
        rank = (len(diff), -fuzz.token_set_ratio(wording, registered_text))  # fewest, then most alike
        if q.id not in near or rank < near[q.id][0]:
            near[q.id] = (rank, diff)
    several = [qid for qid, (q, _) in found.items() if len(q.datasets) > 1]
    if several and not _names_samples(text):  # a data/MC or stacked question is asked naming its samples
        for qid in several:
            del found[qid]
            near[qid] = ((1, 0.0), ["names fewer than two datasets; this question is about several samples"])
    if len(found) == 1:
        (q, phrasing), = found.values()
        return Match(q, "wording", phrasing, (f"same {asked.describe()}",
                                              "every other word is in the registered question or plain filler"))
    if len(found) > 1:
        return Match(None, "none", reasons=(f"fits several questions: {', '.join(sorted(found))}",))
    closest = sorted(near.items(), key=lambda kv: kv[1][0])[:3]
    return Match(None, "none", reasons=tuple(f"closest: {qid}: {'; '.join(diff)}" for qid, (_, diff) in closest))


def match(text: str) -> Question | None:
    """The registered question ``text`` asks (by id or by wording, see :func:`explain`), or None.

    >>> match("Show me the ETmiss for every event").id
    'adl-1'
    >>> match("Plot the MET of events with at least one muon") is None
    True
    """
    return explain(text).question
