"""The embedded ADL benchmark sample: generated on first use, cached, no network.

A deterministic (seeded) simulation in the schema of the IRIS-HEP ADL
benchmark file (CMS 2012 OpenData, NanoAOD-like flat tree ``Events``, GeV).
Questions that name no dataset run on it.  It is a plugin of vibeplot's own,
registered through the ``vibeplot`` entry-point group like third-party ones.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from vibeplot.core import config
from vibeplot.core.datasets import Candidate, Dataset, ResolveContext
from vibeplot.core.hookspecs import hookimpl

NAME = "adl-sample"
DEFAULT_EVENTS = 100_000
SEED = 20260429
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


def sample_path(n_events: int = DEFAULT_EVENTS) -> Path:
    return config.cache_dir() / f"adl-sample-v{GENERATOR_VERSION}-{n_events}.root"


def ensure_sample(n_events: int = DEFAULT_EVENTS) -> Path:
    """Generate the sample into the cache unless it is there already."""
    from vibeplot.core.sample import generate_sample

    path = sample_path(n_events)
    if not path.is_file():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            generate_sample(tmp, n_events=n_events, seed=SEED)
            os.replace(tmp, path)  # atomic: concurrent runs never see half a file
        finally:
            tmp.unlink(missing_ok=True)
    return path


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


def resolve(phrase: str, context: ResolveContext) -> list[Candidate]:
    if _PHRASES.search(phrase) or phrase.strip().lower() in {NAME, "adl", "embedded"}:
        return [Candidate(dataset(), 1.0, "names the embedded ADL benchmark sample")]
    return []


@hookimpl
def register_dataset_resolvers(register):
    register(resolve)
