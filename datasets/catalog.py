"""The built-in dataset catalog (``catalog.toml``) as a resolver plugin.

Each ``[[dataset]]`` entry becomes a :class:`~vibeplot.core.resolver.Dataset` whose
``metadata`` holds every catalog field (cross section, filter efficiency, k-factor,
sources, ...) and whose ``prompt_notes`` tell the model what it needs for weighting.
The ``location = "embedded"`` entry resolves to the embedded sample of
:mod:`vibeplot.datasets.embedded` (generated on first use).  Registered through the
``vibeplot`` entry-point group like third-party resolvers.
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources

from vibeplot.core.resolver import (
    CONTEXT_PENALTY, Candidate, Dataset, ResolveContext, find_did, normalise_phrase, phrase_score,
)
from vibeplot.core.hookspecs import hookimpl

FORMATS = ("physlite", "nanoaod", "flat-ntuple")
KINDS = ("data", "simulation")


@functools.cache
def entries() -> tuple[dict, ...]:
    """The catalog's entries, in file order."""
    text = resources.files("vibeplot.datasets").joinpath("catalog.toml").read_text("utf-8")
    return tuple(tomllib.loads(text)["dataset"])


def entry(name: str) -> dict | None:
    return next((e for e in entries() if e["name"] == name), None)


def location(e: dict) -> str:
    """The DID (rucio), else the first DID of a set, else the first file URL, else ``location``."""
    if e.get("did"):
        return e["did"]
    if e.get("dids"):
        return e["dids"][0]
    if e.get("files"):
        return e["files"][0]
    return e.get("location", "")


def weighting_notes(e: dict) -> str:
    """What the model needs to normalise this dataset (units of the numbers included)."""
    lines = []
    kind = e.get("kind")
    period = ", ".join(str(x) for x in (e.get("experiment"), e.get("run_period")) if x)
    energy = f", {e['energy_tev']} TeV" if e.get("energy_tev") else ""
    lines.append(f"- Kind: {kind or 'unknown'}" + (f" ({period}{energy})" if period else ""))
    if e.get("process"):
        lines.append(f"- Process: {e['process']}")
    if kind == "simulation":
        xs, eff, k = e.get("cross_section_pb"), e.get("filter_efficiency"), e.get("k_factor")
        if xs is not None:
            parts = [f"cross section {xs} pb"]
            if eff is not None:
                parts.append(f"filter efficiency {eff}")
            if k is not None:
                parts.append(f"k-factor {k}")
            lines.append("- " + ", ".join(parts) + ".")
            w = e.get("weight_branch", "mcEventWeight")
            lines.append(
                f"- To normalise to a luminosity L (pb^-1): weight per event = {w} * "
                f"sigma * filter_eff * k_factor * L / (sum of {w} over ALL generated events"
                " of the sample, before any cut)."
            )
            if e.get("sum_of_weights") is not None:
                lines.append(
                    f"- Sum of {w} over the whole sample: {e['sum_of_weights']!r}. Use this number as the "
                    "denominator, not a sum over the events or files you read (they may be a part)."
                )
                lines.append(
                    f"- A weighted plot (not normalised) fills each event with its `{w}`. A plot normalised to "
                    "a luminosity uses the full weight above (1 fb^-1 = 1000 pb^-1) and states the luminosity "
                    "in the y-axis label, e.g. \"Events / bin (10 fb$^{-1}$)\"."
                )
            if eff is None or k is None:
                missing = " and ".join(n for n, v in (("filter efficiency", eff), ("k-factor", k)) if v is None)
                lines.append(f"- The {missing} of this sample is not known here: do not assume 1; "
                             "say so if the plot needs absolute normalisation.")
        else:
            lines.append("- No cross section is known here: plot unnormalised (or normalised to unit area)"
                         " and say so.")
    elif kind == "data":
        lumi = e.get("luminosity_pb") or e.get("luminosity_fb")
        if lumi:
            unit = "pb^-1" if e.get("luminosity_pb") else "fb^-1"
            lines.append(f"- Integrated luminosity: {lumi} {unit}. Data: no event weights.")
        else:
            lines.append("- Data: no event weights. No integrated luminosity is known here; "
                         "do not quote one on the plot.")
    if e.get("n_events"):
        lines.append(f"- Events (per source): {e['n_events']}")
    extra = [d for d in (e.get("other_dids") or e.get("dids", [])[1:]) if d]
    if extra:
        lines.append(f"- {len(extra)} more DID(s) of the same sample exist (see `vibeplot datasets show {e['name']}`).")
    if e.get("files") and len(e["files"]) > 1:
        lines.append(f"- {len(e['files'])} files listed; the location above is the first.")
    return "\n".join(lines) + "\n"


@functools.cache
def _dataset(name: str) -> Dataset:
    e = entry(name)
    metadata = dict(e)
    return Dataset(
        name=e["name"],
        title=e.get("title", e["name"]),
        location=location(e),
        format=e["format"],
        tree=e.get("tree"),
        experiment=e.get("experiment"),
        description="",  # the catalog's notes are about sources: `datasets show`, not the prompt
        prompt_notes=weighting_notes(e),
        metadata=metadata,
    )


def dataset(name: str) -> Dataset:
    """The catalog entry ``name`` as a Dataset (a fresh copy; KeyError if unknown)."""
    if entry(name) is None:
        raise KeyError(name)
    import copy

    return copy.deepcopy(_dataset(name)) if entry(name).get("location") != "embedded" else _embedded(name)


def _embedded(name: str) -> Dataset:
    from vibeplot.datasets import embedded

    if name == embedded.WEIGHTED_NAME:
        return embedded.weighted_dataset()
    if name in embedded.TOY_SAMPLES:
        return embedded.toy_dataset(name)
    ds = embedded.dataset()
    ds.metadata = {**entry(name), **ds.metadata}
    return ds


def phrasings(e: dict) -> list[str]:
    """The normalised name and aliases of an entry."""
    raw = [e["name"], e["name"].replace("-", " "), *e.get("aliases", ())]
    return [p for p in dict.fromkeys(normalise_phrase(str(x)) for x in raw) if p]


def _context_factor(e: dict, context: ResolveContext) -> tuple[float, list[str]]:
    factor, notes = 1.0, []
    if context.formats and e.get("format") not in context.formats:
        factor *= CONTEXT_PENALTY
        notes.append(f"stack {context.stack} cannot read {e.get('format')}")
    if context.experiment and (e.get("experiment") or "").lower() != context.experiment.lower():
        factor *= CONTEXT_PENALTY
        notes.append("other experiment")
    if context.run_period and normalise_phrase(e.get("run_period") or "") != normalise_phrase(context.run_period):
        factor *= CONTEXT_PENALTY
        notes.append("other run period")
    return factor, notes


#: candidates scoring below this are not returned at all
FLOOR = 0.3


def dids(e: dict) -> list[str]:
    """Every rucio DID an entry lists (``did``, ``other_dids``, ``dids``)."""
    return [d for d in (e.get("did"), *e.get("other_dids", ()), *e.get("dids", ())) if d]


def _did_candidates(did: str) -> list[Candidate]:
    """A rucio DID: the catalog entry that lists it, else (a PHYSLITE DID) a dataset the catalog
    knows nothing more about than its name."""
    for e in entries():
        if did in dids(e):
            ds = dataset(e["name"])
            ds.location = did  # the container named, which may be another campaign's than the entry's first
            return [Candidate(ds, 1.0, f"rucio DID of catalog entry {e['name']}", exact=True)]
    if ".DAOD_PHYSLITE." not in did:
        return []
    run3 = did.split(":", 1)[-1].startswith(("mc23", "data22", "data23", "data24", "data25"))
    ds = Dataset(
        name=did, title=f"rucio dataset {did.split(':', 1)[-1][:60]} (not in the catalog)", location=did,
        format="physlite", experiment="ATLAS",
        prompt_notes="- Not in vibeplot's catalog: no cross section, filter efficiency, k-factor or luminosity "
                     "is known here; plot unnormalised (or normalised to unit area) and say so.\n",
        metadata={"did": did, "run_period": "Run 3" if run3 else None, "in_catalog": False},
    )
    return [Candidate(ds, 1.0, "a rucio DID not in the catalog (PHYSLITE, from its name)", exact=True)]


def resolve(phrase: str, context: ResolveContext) -> list[Candidate]:
    if find_did(phrase) == phrase.strip():
        return _did_candidates(phrase.strip())
    wanted = normalise_phrase(phrase)
    out = []
    for e in entries():
        best, best_exact, best_p = 0.0, False, ""
        for p in phrasings(e):
            score, exact = phrase_score(wanted, p)
            if (exact, score) > (best_exact, best):
                best, best_exact, best_p = score, exact, p
        if best < FLOOR:
            continue
        why = f"catalog alias {best_p!r}"
        if not best_exact:
            factor, notes = _context_factor(e, context)
            best *= factor
            if notes:
                why += " (" + "; ".join(notes) + ")"
        out.append(Candidate(dataset(e["name"]), best, why, exact=best_exact))
    return sorted(out, key=lambda c: (not c.exact, -c.score))


resolve.phrases = lambda: [p for e in entries() for p in (e["name"], *e.get("aliases", ()))]


@hookimpl
def register_dataset_resolvers(register):
    register(resolve)
