"""Check a candidate's plots against a reference solution's unbinned values.

A reference script is run once with :mod:`vibeplot.core.sandbox.child.values`, which records
every array it histograms (:func:`record_truth`).  Which script gives the truth is data:
any installed stack's reference that reads a local file itself (the stack's
``truth_references``), in the order the question registry's ``truth`` prefers
(:func:`truth_scripts`, :func:`truth_values_for`); core names no stack.  A candidate run leaves
capture sidecars ``NAME.png.json`` (:mod:`vibeplot.core.sandbox.child.capture`) with the
edges and contents of every histogram it drew (:func:`load_sidecars`).
:func:`validate` then fills each reference quantity into *each candidate
histogram's own bin edges* (``numpy.histogram``) and compares bin by bin, so
the candidate's choice of binning and axis range never matters: only bins
inside the candidate's range are compared, values outside it (flow) are ignored.

Tolerance (:func:`tolerance`): a candidate histogram matches a reference
quantity when at most ``max(1, 1e-4 * N)`` entries differ, ``N`` being the
number of reference entries inside the candidate's range.  "Entries differing"
is ``max(sum of positive bin differences, sum of negative ones)``, so one value
that lands in the neighbouring bin (float rounding at an edge) counts once.
Bins with no reference entries in range at all never match (nothing to check).

Verdict:

* ``unverifiable``: no histogram readable from any figure, or no truth values;
* ``correct``: every reference quantity is matched by some candidate histogram and
  every candidate histogram matches some quantity (the same quantity drawn twice,
  e.g. fill + outline, is fine);
* ``wrong`` otherwise, with a diagnosis per problem.  An unmatched quantity is
  paired with the most similar unmatched candidate histogram and the first rule
  that applies is reported:

  0. ``known mistake: ...``: the candidate matches what a known wrong reading of
     the question plots (``mistakes`` in the question registry, e.g. ADL 6 with
     the highest-pT trijet);
  1. ``looks scaled by 1000 (MeV vs GeV)``: the candidate matches the reference
     values multiplied or divided by 1000;
  2. ``weighted vs unweighted``: the reference is weighted and the candidate
     matches its values unweighted, or the reference is unweighted and the
     candidate's bin contents are not whole numbers;
  2b. ``wrong luminosity or normalisation: candidate = c x reference``: the reference
     is weighted and the candidate matches it times a factor c (not 1) estimated from
     the totals (tolerance ``SCALE_REL_TOL``), e.g. normalised to another luminosity;
     when c is a factor the dataset explains (:func:`known_scales`), that reason is named
     instead, e.g. ``Σw from the delivered files only`` for c = Σw(whole sample) / Σw(files read);
  3. ``selection too loose by N events`` / ``too tight by N events``: the
     candidate is a superset (every bin >=) or subset (every bin <=) of the
     reference within tolerance; N = candidate total - reference total in range;
  4. ``shifted by X``: the candidate matches the truth values plus a
     constant offset (estimated from the binned means, refined on a small grid);
     this match is estimated, so it uses the looser tolerance ``max(tol, 0.02 N)``;
  5. ``same number of entries but different values``: the totals agree within
     tolerance, so the selection is right but another object or quantity is
     plotted per event;
  6. ``counts differ``.

  A quantity with no candidate histogram left is a ``missing plot``; a candidate
  histogram matching nothing and paired with nothing is an ``extra plot``.

Variances (:func:`variance_note`): a matched candidate histogram that carries variances (a ROOT
TH1: its sums of squared weights) is also compared with the reference's Σw² per bin.  A mismatch
does not change the verdict (the contents are what was asked for) but is reported in ``notes``:
variances that are unweighted counts or the bin contents (a weighted fill without ``Sumw2``),
or that differ otherwise.

>>> ref = [{"label": "MET", "values": [1.0, 2.5, 2.6, 7.0], "weights": None}]
>>> good = [{"image": "met.png", "axes": [{"xlabel": "MET", "histograms": [
...     {"kind": "bars", "edges": [0, 2, 4, 6], "values": [1, 2, 0], "label": ""}]}]}]
>>> validate(good, ref).status
'correct'
>>> mev = [{"image": "met.png", "axes": [{"xlabel": "MET", "histograms": [
...     {"kind": "bars", "edges": [0, 2000, 4000, 8000], "values": [1, 2, 1], "label": ""}]}]}]
>>> v = validate(mev, ref); v.status, v.diagnosis
('wrong', ['met.png[0] vs reference "MET": looks scaled by 1000 (MeV vs GeV): candidate = 1000 x reference'])
>>> validate([{"image": "x.png", "axes": []}], ref).status
'unverifiable'
"""

from __future__ import annotations

import functools
import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vibeplot.core.files import atomic_write
from vibeplot.core.resolver import file_identity, is_url

#: relative part of the tolerance: fraction of the in-range reference entries allowed to differ
REL_TOL = 1e-4
#: tolerance for matches whose transformation parameter is estimated (a shift)
SHIFT_REL_TOL = 0.02
#: tolerance for a weighted candidate matching the reference times a factor estimated from the totals
SCALE_REL_TOL = 1e-3
STARTUP = ["vibeplot.core.sandbox.child.capture", "vibeplot.core.sandbox.child.values"]
PLACEHOLDER = "{{dataset}}"


@dataclass
class Match:
    """One comparison of a reference quantity with a candidate histogram."""

    reference: str  # label of the reference quantity
    candidate: str  # "image[i]" (i-th histogram in that image)
    differing: float  # entries differing (see module docstring)
    tolerance: float
    ok: bool


@dataclass
class Verdict:
    status: str  # "correct" | "wrong" | "unverifiable"
    diagnosis: list[str] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)
    #: remarks that do not change the status, e.g. variances that are not the sums of squared weights
    notes: list[str] = field(default_factory=list)


@dataclass
class _Hist:
    name: str
    edges: np.ndarray
    values: np.ndarray
    #: the capture's kind ("stairs", "TH1", "errorbar", ...) and which axes of which image it is in
    kind: str = ""
    axes: tuple = ()


# -- inputs -----------------------------------------------------------------------------------


def load_sidecars(run_dir: Path) -> list[dict]:
    """Every capture sidecar (``*.png.json``) under ``run_dir``, parsed, in path order."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path(run_dir).rglob("*.png.json"))]


def record_truth(script: Path | str, dataset: str | list[str], workdir: Path | None = None, **run_kwargs) -> list[dict]:
    """Run a reference script (``{{dataset}}`` replaced by ``dataset``; for a question about several
    samples, ``dataset`` is their list and ``{{dataset1}}``, ``{{dataset2}}``, ... are replaced too)
    with the values hook; return the recorded values (see :mod:`vibeplot.core.sandbox.child.values`)."""
    from vibeplot.core.ask.oracle import fill_placeholders
    from vibeplot.core.sandbox.run import Grant, run_script

    locations = [str(dataset)] if isinstance(dataset, (str, Path)) else [str(d) for d in dataset]
    workdir = Path(workdir or tempfile.mkdtemp(prefix="vibeplot-ref-"))
    workdir.mkdir(parents=True, exist_ok=True)
    text = fill_placeholders(Path(script).read_text(encoding="utf-8"), locations)
    path = workdir / "reference.py"
    path.write_text(text, encoding="utf-8")
    out = workdir / "truth-values.json"
    local = tuple(Path(d) for d in locations if "://" not in d and Path(d).exists())
    grant = Grant(network=any(is_url(d) for d in locations), read_only=local)  # a file URL: the network
    result = run_script(path, workdir=workdir, startup=STARTUP, extra_env={"VIBEPLOT_RECORD_VALUES": str(out)},
                        grant=grant, **run_kwargs)
    if result.returncode != 0 or not out.exists():
        raise RuntimeError(f"reference {script} failed ({result.describe()}): {result.stderr[-2000:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def _candidates(sidecars: list[dict]) -> list[_Hist]:
    out = []
    for sidecar in sidecars:
        image = Path(str(sidecar.get("image", "?"))).name
        drawn = [(a, h) for a, ax in enumerate(sidecar.get("axes", [])) for h in ax.get("histograms", [])]
        for i, (a, h) in enumerate(drawn):  # name: image and index of the histogram in that image
            edges, values = np.asarray(h.get("edges", []), float), np.asarray(h.get("values", []), float)
            baseline = np.asarray(h.get("baseline") or [], float)
            if len(baseline) and len(baseline) == len(values):  # a stacked component: its own contents
                values = values - baseline
            if edges.ndim == 1 and len(edges) == len(values) + 1 and len(values) > 0:
                out.append(_Hist(f"{image}[{i}]", edges, values, str(h.get("kind", "")), (image, a)))
    return out


# -- comparison -------------------------------------------------------------------------------


def tolerance(n_reference: float, rel: float = REL_TOL) -> float:
    """Entries allowed to differ for ``n_reference`` reference entries in range."""
    return max(1.0, rel * n_reference)


def _expected(values, weights, edges) -> np.ndarray:
    return np.histogram(values, bins=edges, weights=weights)[0].astype(float)


def _differing(expected: np.ndarray, got: np.ndarray) -> float:
    diff = got - expected
    return float(max(diff[diff > 0].sum(), -diff[diff < 0].sum()))


def _compare(values, weights, h: _Hist, rel: float = REL_TOL) -> tuple[float, float, bool]:
    """(entries differing, tolerance, matched) for ``values`` filled into ``h``'s edges."""
    expected = _expected(values, weights, h.edges)
    n = float(np.abs(expected).sum())
    d, tol = _differing(expected, h.values), tolerance(n, rel)
    return d, tol, n > 0 and d <= tol


def _similarity(values, weights, h: _Hist) -> float:
    """Smaller is more alike: differing entries relative to the larger total (0..1)."""
    expected = _expected(values, weights, h.edges)
    scale = max(np.abs(expected).sum(), np.abs(h.values).sum(), 1.0)
    return _differing(expected, h.values) / scale


def _shift(values, weights, h: _Hist) -> float | None:
    """An offset that makes ``values + offset`` match ``h`` (loose tolerance), or None."""
    centers = 0.5 * (h.edges[1:] + h.edges[:-1])
    expected = _expected(values, weights, h.edges)
    if expected.sum() <= 0 or h.values.sum() <= 0:
        return None
    guess = np.average(centers, weights=h.values) - np.average(centers, weights=expected)
    width = float(np.min(np.diff(h.edges)))
    for offset in guess + width * np.linspace(-1, 1, 21):
        if abs(offset) > 0.5 * width and _compare(values + offset, weights, h, SHIFT_REL_TOL)[2]:
            return float(offset)
    return None


def _scale(values, weights, h: _Hist) -> float | None:
    """The factor c (not 1) for which ``h`` matches the weighted reference times c, or None.
    c is estimated from the totals, so the match uses the tolerance ``SCALE_REL_TOL``."""
    total = float(_expected(values, weights, h.edges).sum())
    scale = float(h.values.sum()) / total if total else 0.0
    if scale <= 0 or abs(scale - 1) < 1e-3:
        return None
    return scale if _compare(values, weights * scale, h, SCALE_REL_TOL)[2] else None


def _arrays(quantity: dict) -> tuple[np.ndarray, np.ndarray | None]:
    weights = quantity.get("weights")
    return np.asarray(quantity["values"], float), None if weights is None else np.asarray(weights, float)


def _variances(sidecars: list[dict]) -> dict[str, np.ndarray]:
    """The variances candidate histograms carry (a ROOT TH1's), by the names :func:`_candidates` gives."""
    out = {}
    for sidecar in sidecars:
        image = Path(str(sidecar.get("image", "?"))).name
        drawn = [h for ax in sidecar.get("axes", []) for h in ax.get("histograms", [])]
        for i, h in enumerate(drawn):
            var = h.get("variances")
            if isinstance(var, list) and len(var) == len(h.get("values") or []) and var:
                out[f"{image}[{i}]"] = np.asarray(var, float)
    return out


def variance_note(quantity: dict, h: _Hist, variances: np.ndarray) -> str | None:
    """None when ``variances`` (of ``h``, which matches ``quantity``) are the reference's sums of
    squared weights per bin (counts when it is unweighted), else what they are instead.

    The allowance is one entry's squared weight or ``REL_TOL`` of the total, whichever is larger.

    >>> q = {"values": [0.5, 0.6, 1.5], "weights": [2.0, -1.0, 3.0]}
    >>> h = _Hist("x.png[0]", np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0]))
    >>> variance_note(q, h, np.array([5.0, 9.0])) is None
    True
    >>> variance_note(q, h, np.array([2.0, 1.0]))
    'x.png[0]: the variances are unweighted counts, not the sums of squared weights (the contents are right)'
    """
    values, weights = _arrays(quantity)
    if len(variances) != len(h.values):
        return None
    squared = None if weights is None else weights ** 2
    expected = _expected(values, squared, h.edges)
    one = float(np.max(squared)) if squared is not None and len(squared) else 1.0
    allowed = max(one, REL_TOL * float(np.abs(expected).sum()))
    if _differing(expected, variances) <= allowed:
        return None
    counts = _expected(values, None, h.edges)
    if weights is not None and _differing(counts, variances) <= tolerance(float(counts.sum())):
        return f"{h.name}: the variances are unweighted counts, not the sums of squared weights (the contents are right)"
    if weights is not None and _differing(np.abs(h.values), variances) <= allowed:
        return (f"{h.name}: the variances are the bin contents (a weighted fill without Sumw2), not the sums of "
                "squared weights (the contents are right)")
    total = float(np.abs(expected).sum()) or 1.0
    return (f"{h.name}: the variances differ from the reference's sums of squared weights "
            f"(by {_differing(expected, variances) / total:.3g} of their total; the contents are right)")


def known_scales(dataset: dict) -> list[tuple[float, str]]:
    """(factor, reason) for the factors a weighted candidate can be off by that ``dataset`` (a
    run.json ``dataset`` record) explains: Σw of the file read (the location, one of the metadata's
    ``files`` with ``files_sum_of_weights``) used instead of Σw over the whole sample (``sum_of_weights``).

    >>> ds = {"location": "/a.root", "metadata": {"sum_of_weights": 10.0, "files": ["/a.root", "/b.root"],
    ...       "files_sum_of_weights": [4.0, 6.0]}}
    >>> known_scales(ds)
    [(2.5, 'Σw from the delivered files only: normalised with the sum of weights of the files read (4), not of the whole sample (10)')]
    """
    meta = dataset.get("metadata") or {}
    total, files, sums = meta.get("sum_of_weights"), meta.get("files") or [], meta.get("files_sum_of_weights") or []
    location = str(dataset.get("location", ""))
    if not isinstance(total, (int, float)) or location not in files or len(sums) != len(files):
        return []
    read = sums[files.index(location)]
    if not isinstance(read, (int, float)) or not read or abs(read - total) <= 1e-9 * abs(total):
        return []
    return [(total / read, f"Σw from the delivered files only: normalised with the sum of weights of the files read "
                           f"({read:.8g}), not of the whole sample ({total:.8g})")]


def diagnose(quantity: dict, h: _Hist, mistakes: list[tuple[str, list[dict]]] = (),
             scales: list[tuple[float, str]] = ()) -> str:
    """Why ``h`` does not match the reference ``quantity`` (rules in the module docstring).

    ``mistakes``: (description, recorded values) of known wrong readings of the question;
    ``scales``: (factor, reason) of factors the dataset explains (:func:`known_scales`).
    """
    for description, recorded in mistakes:
        if any(_compare(*_arrays(q), h)[2] for q in recorded if q.get("values") is not None):
            return f"known mistake: {description}"
    values, weights = _arrays(quantity)
    if _compare(values * 1000, weights, h)[2]:
        return "looks scaled by 1000 (MeV vs GeV): candidate = 1000 x reference"
    if _compare(values / 1000, weights, h)[2]:
        return "looks scaled by 1000 (MeV vs GeV): candidate = reference / 1000"
    if weights is not None and _compare(values, None, h)[2]:
        return "weighted vs unweighted: candidate is filled without the reference's weights"
    if weights is None and np.any(np.abs(h.values - np.round(h.values)) > 1e-6):
        return "weighted vs unweighted: candidate bin contents are not whole counts, the reference is unweighted"
    if weights is not None and (scale := _scale(values, weights, h)) is not None:
        for factor, reason in scales:
            if abs(scale / factor - 1) <= SCALE_REL_TOL:
                return f"{reason}: candidate = {scale:.4g} x reference"
        return f"wrong luminosity or normalisation: candidate = {scale:.4g} x reference"
    expected = _expected(values, weights, h.edges)
    diff = h.values - expected
    tol = tolerance(float(np.abs(expected).sum()))
    excess, deficit = float(diff[diff > 0].sum()), float(-diff[diff < 0].sum())
    if excess > tol and deficit <= tol:
        return f"selection too loose by {round(excess - deficit)} events (histogram entries in range)"
    if deficit > tol and excess <= tol:
        return f"selection too tight by {round(deficit - excess)} events (histogram entries in range)"
    if (offset := _shift(values, weights, h)) is not None:
        return f"shifted by {offset:+.4g} with respect to the reference"
    if abs(excess - deficit) <= tol:
        return (f"same number of entries ({round(h.values.sum())} in range) but different values: "
                "the selection agrees, another object or quantity is plotted per event")
    return f"counts differ: {round(max(excess, deficit))} of {round(expected.sum())} entries in range"


def validate(candidate_sidecars: list[dict], truth_values: list[dict],
             mistakes: list[tuple[str, list[dict]]] = (), scales: list[tuple[float, str]] = ()) -> Verdict:
    """Compare a candidate's drawn histograms with a reference's recorded values.

    ``candidate_sidecars``: parsed capture sidecars; ``truth_values``: records
    from :mod:`vibeplot.core.sandbox.child.values` (``label``, ``values``, ``weights``);
    ``mistakes``: (description, recorded values) of known wrong readings, and ``scales``:
    (factor, reason) the dataset explains (:func:`known_scales`), used only to name what went wrong.
    """
    hists = _candidates(candidate_sidecars)
    quantities = [q for q in truth_values if q.get("values") is not None]
    if not hists:
        return Verdict("unverifiable", ["no histogram could be read from any figure"])
    if not quantities:
        return Verdict("unverifiable", ["the reference recorded no histogrammed values"])
    arrays = [(np.asarray(q["values"], float),
               None if q.get("weights") is None else np.asarray(q["weights"], float)) for q in quantities]
    labels = [q.get("label") or f"quantity {i}" for i, q in enumerate(quantities)]

    matches, matched_q, matched_h = [], set(), set()
    for qi, (vals, w) in enumerate(arrays):
        for hi, h in enumerate(hists):
            d, tol, ok = _compare(vals, w, h)
            matches.append(Match(labels[qi], h.name, d, tol, ok))
            if ok:
                matched_q.add(qi)
                matched_h.add(hi)

    diagnosis = []
    free_h = [hi for hi in range(len(hists)) if hi not in matched_h]
    for qi in (qi for qi in range(len(quantities)) if qi not in matched_q):
        if not free_h:
            diagnosis.append(f'missing plot: nothing drawn matches reference "{labels[qi]}"')
            continue
        best = min(free_h, key=lambda hi: _similarity(*arrays[qi], hists[hi]))
        free_h.remove(best)
        diagnosis.append(f'{hists[best].name} vs reference "{labels[qi]}": {diagnose(quantities[qi], hists[best], mistakes, scales)}')
    # points with error bars in an axes where nothing matched (a data/MC ratio panel) are not extra plots
    matched_axes = {hists[hi].axes for hi in matched_h}
    free_h = [hi for hi in free_h if hists[hi].kind != "errorbar" or hists[hi].axes in matched_axes]
    diagnosis += [f"extra plot: {hists[hi].name} matches no reference quantity" for hi in free_h]
    variances, notes = _variances(candidate_sidecars), []
    for qi, (vals, w) in enumerate(arrays):  # Σw² of every matched histogram that carries variances
        for hi, h in enumerate(hists):
            if h.name in variances and h.name not in {n.split(":")[0] for n in notes} and _compare(vals, w, h)[2]:
                note = variance_note(quantities[qi], h, variances[h.name])
                if note:
                    notes.append(note)
    return Verdict("wrong" if diagnosis else "correct", diagnosis, matches, notes)


# -- runs -------------------------------------------------------------------------------------
#: dataset formats that truth references read directly (a local ROOT file with flat branches)
_READABLE = {"flat-ntuple", "nanoaod", "root-file"}


def truth_scripts(question_id: str, dataset_format: str = "") -> list[tuple[str, Path]]:
    """(stack, script) of every installed reference that can give ``question_id``'s truth values.

    Only references in a stack's truth folder (:meth:`vibeplot.core.stack.Stack.truth_dir`)
    count: they read a local file themselves, so the values hook records them with no service
    around.  Order: the question's ``truth`` stacks from the registry first, then every other
    stack by name; a stack whose ``formats`` exclude ``dataset_format`` is left out.

    >>> [name for name, _ in truth_scripts("adl-1")][:1]      # doctest: +SKIP
    ['uproot_opendata']
    """
    from vibeplot.core import plugins
    from vibeplot.core.questions import reference_file, registry

    question = registry().get(question_id)
    installed = plugins.stacks()
    preferred = [n for n in (question.truth if question else ()) if n in installed]
    out = []
    for name in preferred + sorted(n for n in installed if n not in preferred):
        stack, folder = installed[name], installed[name].truth_dir()
        if folder is None or (dataset_format and stack.formats and dataset_format not in stack.formats):
            continue
        script = folder / reference_file(question_id)
        if script.is_file():
            out.append((name, script))
    return out


def recorded_values(script: Path, dataset_location: str) -> list[dict]:
    """:func:`record_truth` of ``script`` on a local file or a file URL, cached by file and script
    content (a URL's file by its UUID and size, :func:`~vibeplot.core.resolver.file_identity`)."""
    import hashlib

    from vibeplot.core import config

    if not isinstance(dataset_location, (str, Path)):  # several samples: every file's key, in order
        path = [str(d) for d in dataset_location]
        file_key = "||".join(_file_key(d) for d in path)
    elif is_url(dataset_location):
        path, file_key = dataset_location, _file_key(dataset_location)
    else:
        path, file_key = Path(dataset_location), _file_key(dataset_location)
    key = hashlib.sha256(f"{file_key}|{script.read_text()}".encode())
    cache = config.cache_dir() / "truth-values" / f"{script.stem}-{key.hexdigest()[:16]}.json"
    if cache.is_file():
        return json.loads(cache.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="vibeplot-ref-") as tmp:
        values = record_truth(script, path if isinstance(path, list) else str(path), Path(tmp))
    cache.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(cache, json.dumps(values))
    return values


def _file_key(location: str) -> str:
    """What identifies a local file's or a URL's content for the truth-values cache."""
    if is_url(location):
        return f"{location}|{_url_identity(location)}"
    path = Path(location)
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


@functools.lru_cache(maxsize=64)
def _url_identity(url: str) -> str:
    return file_identity(url)


def _readable(dataset_location: str | list[str], dataset_format: str) -> bool:
    if not isinstance(dataset_location, (str, Path)):  # several samples: every one readable
        return bool(dataset_location) and all(_readable(d, dataset_format) for d in dataset_location)
    return dataset_format in _READABLE and (is_url(dataset_location) or Path(dataset_location).is_file())


def truth_values_for(question_id: str, dataset_location: str, dataset_format: str) -> list[dict] | None:
    """Recorded values of ``question_id``'s truth reference on a dataset, cached; None when there is none.

    The first of :func:`truth_scripts` that runs gives them; when every one fails, the first
    failure is raised.
    """
    if not _readable(dataset_location, dataset_format):
        return None
    first_error = None
    for _, script in truth_scripts(question_id, dataset_format):
        try:
            return recorded_values(script, dataset_location)
        except RuntimeError as err:  # e.g. ROOT missing for one stack: the next may do
            first_error = first_error or err
    if first_error is not None:
        raise first_error
    return None


def mistake_values_for(question_id: str, dataset_location: str, dataset_format: str) -> list[tuple[str, list[dict]]]:
    """(description, recorded values) of every known mistake of ``question_id`` on a dataset.

    A mistake's script is taken from the ``mistakes/`` folder of the first stack (in
    :func:`truth_scripts` order) that has it; a mistake no installed stack has is skipped.
    """
    from vibeplot.core.questions import registry

    question = registry().get(question_id)
    if question is None or not question.mistakes or not _readable(dataset_location, dataset_format):
        return []
    folders = [script.parent / "mistakes" for _, script in truth_scripts(question_id, dataset_format)]
    out = []
    for name, description in question.mistakes:
        script = next((f / name for f in folders if (f / name).is_file()), None)
        if script is not None:
            out.append((description, recorded_values(script, dataset_location)))
    return out


def uhi_files_changed(run_dir: Path, manifest: dict) -> list[str]:
    """The plots' ``NAME.png.uhi.json`` files that are not what vibeplot wrote during the run.

    ``run.json``'s ``plot_uhi_records`` holds the sha256 of each one vibeplot wrote (runs made
    before it existed have none, and nothing is checked): a file whose sha256 differs, one that
    is gone, and one that vibeplot never wrote all count.  Validation reads bin contents from the
    ``NAME.png.json`` sidecars, never from these files; it checks them so that the record a run
    hands on is the one vibeplot made.
    """
    from vibeplot.core.sandbox import uhi_json

    recorded = manifest.get("plot_uhi_records")
    if recorded is None:
        return []
    changed = []
    for png in manifest.get("plots", []):
        path = uhi_json.path_for(Path(run_dir) / png)
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        if digest != recorded.get(png):
            changed.append(path.name)
    return changed


def validate_run(run_dir: Path, manifest: dict | None = None) -> Verdict | None:
    """The verdict for a finished run of a known benchmark question (None if it is not one).

    Reads ``run.json`` (question id, dataset) and the capture sidecars of the run's plots, which
    vibeplot wrote itself from the capture channel; a sidecar or a UHI file (``NAME.png.uhi.json``,
    :func:`uhi_files_changed`) whose sha256 differs from the one ``run.json`` recorded makes the
    verdict ``unverifiable``.  Bin contents come from the sidecars only.
    """
    run_dir = Path(run_dir)
    manifest = manifest or json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    question_id = manifest.get("question_id")
    if not question_id:
        return None
    if manifest.get("outcome") != "plot":
        return Verdict("unverifiable", ["the run made no plot"])
    dataset = manifest.get("dataset") or {}
    several = manifest.get("datasets") or []
    if len(several) > 1:  # a question about several samples: its references read them all, in this order
        formats = {d.get("format", "") for d in several}
        dataset = {**dataset, "location": [d.get("location", "") for d in several],
                   "format": formats.pop() if len(formats) == 1 else "",
                   "name": " + ".join(str(d.get("name")) for d in several)}
    reference = truth_values_for(question_id, dataset.get("location", ""), dataset.get("format", ""))
    if reference is None:
        why = ("no installed stack has a reference for it that reads the file directly"
               if _readable(dataset.get("location", ""), dataset.get("format", ""))
               else "the dataset is not a local file or file URL that references read directly")
        return Verdict("unverifiable", [f"no truth values for {question_id} on {dataset.get('name')}: {why}"])
    sidecars, changed = [], []
    recorded = manifest.get("plot_records")
    for png in manifest.get("plots", []):
        path = run_dir / f"{png}.json"
        if not path.is_file():
            continue
        data = path.read_bytes()
        if recorded is not None and recorded.get(png) != hashlib.sha256(data).hexdigest():
            changed.append(path.name)
            continue
        sidecars.append(json.loads(data))
    changed += uhi_files_changed(run_dir, manifest)
    if changed:
        return Verdict("unverifiable", [f"{', '.join(changed)} differs from what vibeplot recorded during the run "
                                        "(sha256 in run.json): the histograms were edited afterwards"])
    scales = known_scales(dataset)
    verdict = validate(sidecars, reference, scales=scales)
    if verdict.status == "wrong":  # name a known mistake if there is one
        mistakes = mistake_values_for(question_id, dataset.get("location", ""), dataset.get("format", ""))
        if mistakes:
            verdict = validate(sidecars, reference, mistakes, scales)
    return verdict


def verdict_record(verdict: Verdict) -> dict:
    """The verdict as stored in ``run.json``."""
    record = {"status": verdict.status, "diagnosis": verdict.diagnosis}
    if verdict.notes:  # only when there are some: older records and readers know two keys
        record["notes"] = verdict.notes
    return record
