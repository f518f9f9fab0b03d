"""The embedded ADL benchmark sample: generated on first use, cached, no network.

A deterministic (seeded) simulation in the schema of the IRIS-HEP ADL
benchmark file (CMS 2012 OpenData, NanoAOD-like flat tree ``Events``, GeV).
Questions that name no dataset run on it.  It is a plugin of vibeplot's own,
registered through the ``vibeplot`` entry-point group like third-party ones.

The cached file is read-only (0o444) and has a record next to it (``<file>.json``:
size and sha256, written when it is generated).  Before use it is checked against the
record, once per process while the file is unchanged; a damaged file, or one without
its record, is generated again with a warning on stderr saying what was wrong.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sys
import threading
from pathlib import Path

from vibeplot.core import config
from vibeplot.core.resolver import Candidate, Dataset, ResolveContext
from vibeplot.core.files import atomic_write
from vibeplot.core.hookspecs import hookimpl

NAME = "adl-sample"
#: the second embedded sample: the same schema plus per-event generator weights
WEIGHTED_NAME = "adl-weighted-sample"
#: it is spread over files, as a real sample is: events per file, in order.  Its location (what a
#: script reads, what ``NFiles=1`` delivers) is the first file only; Σw is over all of them.
WEIGHTED_FILE_EVENTS = (8000, 7000, 5000)
WEIGHTED_EVENTS = sum(WEIGHTED_FILE_EVENTS)
WEIGHTED_SEED = 20261204
DEFAULT_EVENTS = config.SAMPLE_EVENTS
SEED = config.SAMPLE_SEED
#: bump when the generator's output changes, so stale cached files are not reused
GENERATOR_VERSION = 1

_PHRASES = re.compile(
    r"\b(adl|embedded|default|benchmark|generated)\b.*\b(sample|dataset|file|data)\b"
    r"|\badl[- ]sample\b|\bvibeplot sample\b",
    re.I,
)

BRANCHES = """\
- Units GeV, angles in radians. Per event: `MET_pt`, `MET_phi` (float32).
- Jets: `nJet` (uint32); `Jet_pt`, `Jet_eta`, `Jet_phi`, `Jet_mass`, `Jet_btag` (float32 per jet;
  `Jet_btag` is a b-tagging discriminant in [0, 1]).
- Muons: `nMuon` (uint32); `Muon_pt`, `Muon_eta`, `Muon_phi`, `Muon_mass` (float32), `Muon_charge` (int32).
- Electrons: `nElectron` (uint32); `Electron_pt`, `Electron_eta`, `Electron_phi`, `Electron_mass`
  (float32), `Electron_charge` (int32).
- Objects are sorted by pT, highest first. Simulated, no event weights: fill unweighted.
"""


WEIGHTED_BRANCHES = BRANCHES.replace(
    "- Objects are sorted by pT, highest first. Simulated, no event weights: fill unweighted.\n",
    "- Objects are sorted by pT, highest first.\n"
    "- Per event: `genWeight` (float32), the generator weight; about 15% are negative (NLO-like).\n",
)


def sample_path(n_events: int = DEFAULT_EVENTS) -> Path:
    return config.cache_dir() / f"adl-sample-v{GENERATOR_VERSION}-{n_events}.root"


def weighted_sample_paths() -> list[Path]:
    """The weighted sample's files, in event order (``WEIGHTED_FILE_EVENTS``)."""
    n = len(WEIGHTED_FILE_EVENTS)
    return [config.cache_dir() / f"adl-weighted-sample-v{GENERATOR_VERSION}-{WEIGHTED_EVENTS}-{i}of{n}.root"
            for i in range(1, n + 1)]


def weighted_sample_path() -> Path:
    """The weighted sample's first file: the dataset's location."""
    return weighted_sample_paths()[0]


def record_path(path: Path) -> Path:
    """The sample's record: its size and sha256 when it was generated."""
    return path.with_name(path.name + ".json")


_lock = threading.Lock()
_checked: dict[Path, tuple] = {}  # sample -> (size, mtime, inode) when it last passed its check here


def _signature(path: Path) -> tuple:
    st = path.stat()
    return st.st_size, st.st_mtime_ns, st.st_ino


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _problem(path: Path) -> str:
    """What is wrong with the cached sample: "missing", a reason, or "" if it matches its record."""
    if not path.is_file():
        return "missing"
    rec = record_path(path)
    try:
        record = json.loads(rec.read_text(encoding="utf-8"))
        size, digest = int(record["size"]), str(record["sha256"])
    except FileNotFoundError:
        return f"its record {rec.name} is missing"
    except (OSError, ValueError, KeyError, TypeError) as err:
        return f"its record {rec.name} is unreadable ({type(err).__name__}: {err})"
    actual = path.stat().st_size
    if actual != size:
        return f"{actual} bytes, the record says {size}"
    actual = _sha256(path)
    if actual != digest:
        return f"sha256 {actual[:12]}…, the record says {digest[:12]}…"
    return ""


@contextlib.contextmanager
def _file_lock(path: Path):
    """Across processes: one generates, the others wait and then find it good."""
    import fcntl

    with open(path.with_name(f".{path.name}.lock"), "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _write_with_record(path: Path, generate, **fields) -> None:
    """``generate(tmp)`` writes the file; it lands at ``path`` (read-only) with its record (size, sha256,
    ``fields``).  Atomic: concurrent runs never see half a file; read-only, a small guard against
    accidental writes."""
    record = {}

    def write(tmp: Path) -> None:
        generate(tmp)
        record.update({"file": path.name, "size": tmp.stat().st_size, "sha256": _sha256(tmp), **fields,
                       "generator_version": GENERATOR_VERSION})

    atomic_write(path, write, mode=0o444)
    atomic_write(record_path(path), json.dumps(record, indent=2) + "\n")


def _ensure_file(path: Path, generate, **fields) -> Path:
    """``path`` as its record says (checked once per process while the file is unchanged), else
    generated again by :func:`_write_with_record`, with a warning on stderr when it was damaged."""
    with _lock:
        with contextlib.suppress(OSError):
            if _checked.get(path) == _signature(path):
                return path
        if _problem(path):
            with _file_lock(path):
                problem = _problem(path)  # another process may have just regenerated it
                if problem:
                    if problem != "missing":
                        print(f"Warning: the cached embedded sample {path} failed its check ({problem}); "
                              "generating it again", file=sys.stderr)
                    _write_with_record(path, generate, **fields)
        _checked[path] = _signature(path)
    return path


def _generate_weighted(paths: list[Path]) -> None:
    """All the weighted sample's files, each written atomically with its record."""
    import os
    import tempfile

    from vibeplot.datasets.sample import generate_weighted_files

    paths[0].parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=paths[0].parent, prefix=".weighted-") as tmp:
        made = generate_weighted_files([Path(tmp) / p.name for p in paths], WEIGHTED_FILE_EVENTS, WEIGHTED_SEED)
        for i, (path, src, n) in enumerate(zip(paths, made, WEIGHTED_FILE_EVENTS)):
            record = {"file": path.name, "size": src.stat().st_size, "sha256": _sha256(src), "events": n,
                      "file_index": i, "files": len(paths), "sample_events": WEIGHTED_EVENTS,
                      "seed": WEIGHTED_SEED, "generator_version": GENERATOR_VERSION}
            atomic_write(path, lambda t, src=src: os.replace(src, t), mode=0o444)
            atomic_write(record_path(path), json.dumps(record, indent=2) + "\n")


def ensure_sample(n_events: int = DEFAULT_EVENTS, weighted: bool = False) -> Path:
    """Generate the sample (``weighted``: the weighted sample, all its files; its first file is
    returned) into the cache unless it is there already and matches its record (checked once per
    process while the file is unchanged); regenerate a damaged one with a warning on stderr."""
    if weighted:
        return ensure_weighted_sample()[0]
    from vibeplot.datasets.sample import generate_sample

    return _ensure_file(sample_path(n_events), lambda tmp: generate_sample(tmp, n_events=n_events, seed=SEED),
                        events=n_events, seed=SEED)


def ensure_weighted_sample() -> list[Path]:
    """:func:`ensure_sample` for the weighted sample: every file checked against its record, and
    all of them generated again (the same events) if any is missing or damaged.  Returns the files."""
    paths = weighted_sample_paths()
    with _lock:
        with contextlib.suppress(OSError):
            if all(_checked.get(p) == _signature(p) for p in paths):
                return paths
        if any(_problem(p) for p in paths):
            with _file_lock(paths[0]):
                problems = [(p, _problem(p)) for p in paths]  # another process may have just regenerated them
                if any(problem for _, problem in problems):
                    bad = [f"{p.name}: {problem}" for p, problem in problems if problem and problem != "missing"]
                    if bad:
                        print(f"Warning: the cached embedded weighted sample failed its check ({'; '.join(bad)}); "
                              "generating it again", file=sys.stderr)
                    _generate_weighted(paths)
        for p in paths:
            _checked[p] = _signature(p)
    return paths


def dataset(n_events: int = DEFAULT_EVENTS) -> Dataset:
    return Dataset(
        name=NAME,
        title=f"vibeplot's embedded ADL benchmark sample ({n_events} generated events)",
        location=str(sample_path(n_events)),
        format="flat-ntuple",
        tree="Events",
        experiment="CMS-like (ADL benchmark schema)",
        description="Local ROOT file in the schema of the ADL benchmark input (CMS 2012 OpenData "
        "Run2012B_SingleMu): Z, W, ttbar, WZ and multijet events.",
        prompt_notes=BRANCHES,
        metadata={"events": n_events, "seed": SEED, "generator_version": GENERATOR_VERSION},
        prepare=lambda: ensure_sample(n_events),
    )


def weighted_dataset() -> Dataset:
    """The weighted sample, with its catalog entry's cross section, Σw and how to normalise."""
    from vibeplot.datasets import catalog

    e = catalog.entry(WEIGHTED_NAME)
    first, n_files = WEIGHTED_FILE_EVENTS[0], len(WEIGHTED_FILE_EVENTS)
    files_note = (f"- The sample is {n_files} files ({', '.join(map(str, WEIGHTED_FILE_EVENTS))} events); the location "
                  f"above is the first, {first} of the {WEIGHTED_EVENTS} events, and the only one read here (as with "
                  "NFiles=1). Still divide by the whole sample's sum of weights below; say in your notes that the "
                  f"plot has {first} of {WEIGHTED_EVENTS} events.\n")
    return Dataset(
        name=WEIGHTED_NAME,
        title=f"vibeplot's embedded weighted sample ({WEIGHTED_EVENTS} generated events with genWeight, "
              f"{n_files} files)",
        location=str(weighted_sample_path()),
        format="flat-ntuple",
        tree="Events",
        experiment="CMS-like (ADL benchmark schema)",
        description="Local ROOT file in the schema of the ADL benchmark input plus per-event generator "
        "weights: Drell-Yan Z->mumu and Z->ee events with a recoil jet.",
        prompt_notes=WEIGHTED_BRANCHES + files_note + catalog.weighting_notes(e),
        metadata={**e, "events": WEIGHTED_EVENTS, "seed": WEIGHTED_SEED, "generator_version": GENERATOR_VERSION,
                  "files": [str(p) for p in weighted_sample_paths()], "location_events": first},
        prepare=lambda: ensure_sample(weighted=True),
    )


def resolve(phrase: str, context: ResolveContext) -> list[Candidate]:
    if re.search(r"\bweighted\b", phrase, re.I) and (_PHRASES.search(phrase) or "sample" in phrase.lower()):
        return [Candidate(weighted_dataset(), 1.0, "names the embedded weighted sample")]
    if _PHRASES.search(phrase) or phrase.strip().lower() in {NAME, "adl", "embedded"}:
        return [Candidate(dataset(), 1.0, "names the embedded ADL benchmark sample")]
    return []


@hookimpl
def register_dataset_resolvers(register):
    register(resolve)


# -- the toy samples of the several-samples questions -------------------------------------------
#: name -> events, seed, process mixture, weights (None: pseudo-data; else ("nlo"|"lo", scale)).
#: The pseudo-data mixes Z->mumu and ttbar in the numbers the two simulated samples predict for
#: its luminosity (cross section x filter efficiency x k-factor x L, datasets/catalog.toml), so an
#: overlay of data and simulation normalised to the data's luminosity agrees within statistics.
TOY_DATA_LUMI_PB = 5.0
TOY_SAMPLES = {
    "toy-dimuon-data": dict(events=13_900, seed=20261205, fractions={"zmumu": 9900 / 13900, "ttbar": 4000 / 13900},
                            weights=None),
    "toy-zmumu-mc": dict(events=10_000, seed=20261206, fractions={"zmumu": 1.0}, weights=("nlo", 1250.0)),
    "toy-ttbar-mc": dict(events=5_000, seed=20261207, fractions={"ttbar": 1.0}, weights=("lo", 0.5)),
}


def toy_sample_path(name: str) -> Path:
    return config.cache_dir() / f"{name}-v{GENERATOR_VERSION}-{TOY_SAMPLES[name]['events']}.root"


def ensure_toy_sample(name: str) -> Path:
    """:func:`ensure_sample` for the toy sample ``name`` (:data:`TOY_SAMPLES`): generated into the
    cache unless it is there and matches its record (size and sha256); a damaged one again, with a warning."""
    from vibeplot.datasets.toy import generate_toy_sample

    spec = TOY_SAMPLES[name]
    return _ensure_file(
        toy_sample_path(name),
        lambda tmp: generate_toy_sample(tmp, spec["events"], spec["seed"], spec["fractions"], spec["weights"]),
        events=spec["events"], seed=spec["seed"])


def toy_dataset(name: str) -> Dataset:
    """A toy sample as a Dataset: its catalog entry (kind, cross section, Σw or luminosity) in the prompt."""
    from vibeplot.datasets import catalog

    e, spec = catalog.entry(name), TOY_SAMPLES[name]
    weighted = spec["weights"] is not None
    branches = WEIGHTED_BRANCHES if weighted else BRANCHES.replace(
        "Simulated, no event weights: fill unweighted.", "Pseudo-data: no event weights, fill unweighted.")
    if weighted and spec["weights"][0] == "lo":
        branches = branches.replace("; about 15% are negative (NLO-like)", " (all positive)")
    return Dataset(
        name=name,
        title=f"vibeplot's embedded {e['title'].removeprefix('vibeplot embedded ')} ({spec['events']} events)",
        location=str(toy_sample_path(name)),
        format="flat-ntuple",
        tree="Events",
        experiment="CMS-like (ADL benchmark schema)",
        description=f"Local ROOT file in the schema of the ADL benchmark input: {e['process']}.",
        prompt_notes=branches + catalog.weighting_notes(e),
        metadata={**e, "events": spec["events"], "seed": spec["seed"], "generator_version": GENERATOR_VERSION},
        prepare=lambda: ensure_toy_sample(name),
    )
