"""Deterministic generator of the embedded sample in the ADL-benchmark (CMS NanoAOD-like) schema.

The sample is a toy, but one with real physics structure, so that the IRIS-HEP ADL
benchmark questions give meaningful plots: a Z peak in dilepton masses, a top peak in
trijet masses, a Jacobian peak in W transverse masses, three-lepton WZ events, and
falling QCD multijet spectra.  Everything is generated with vectorised numpy (no
per-event Python loops) and written with uproot to a TTree ``Events`` with branches

    MET_pt, MET_phi                                   float32
    nJet, nMuon, nElectron                            uint32 (counters, as in NanoAOD)
    Jet_pt, Jet_eta, Jet_phi, Jet_mass, Jet_btag      var * float32
    Muon_pt, Muon_eta, Muon_phi, Muon_mass            var * float32
    Electron_pt, Electron_eta, Electron_phi, Electron_mass    var * float32
    Muon_charge, Electron_charge                      var * int32

All energies and momenta are in GeV; objects are sorted by pT (descending) within an
event.  Events are produced in chunks of ``CHUNK_SIZE``, each with its own random
stream derived from ``seed``, so memory stays bounded and the arrays are identical for
identical ``(n_events, seed)``; a larger sample with the same seed starts with the
same full chunks as a smaller one.
"""

from __future__ import annotations

import contextlib
import pathlib

import awkward as ak
import numpy as np
import uproot
import uproot.writing._cascadetree

from vibeplot.core import config

MUON_MASS = 0.1057
ELECTRON_MASS = 0.000511
CHUNK_SIZE = 100_000
# Fixed process fractions (rounded to whole events per chunk).
PROCESS_FRACTIONS = {"qcd": 0.40, "wlnu": 0.17, "ttbar": 0.15, "zmumu": 0.12, "zee": 0.10, "wz": 0.06}
_BRANCH_TYPES = {
    "MET_pt": "float32",
    "MET_phi": "float32",
    "Jet": "var * {pt: float32, eta: float32, phi: float32, mass: float32, btag: float32}",
    "Muon": "var * {pt: float32, eta: float32, phi: float32, mass: float32, charge: int32}",
    "Electron": "var * {pt: float32, eta: float32, phi: float32, mass: float32, charge: int32}",
}
_PHI_MAX = np.nextafter(np.float32(np.pi), np.float32(0))  # largest float32 below pi


class _Chunk:
    """Flat per-object arrays (lists of dicts of arrays) for one chunk of events; every
    object carries the index of its event, so no per-event Python objects are needed."""

    def __init__(self):
        self.jets, self.muons, self.electrons, self.neutrinos = [], [], [], []


def _jagged(parts, n_events, pt_min, eta_max, fields):
    """Apply the acceptance, sort by (event, pT descending) and build a jagged record array."""
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    keep = (cols["pt"] > pt_min) & (np.abs(cols["eta"]) < eta_max)
    cols = {k: v[keep] for k, v in cols.items()}
    cols["phi"] = _wrap_phi(cols["phi"])
    order = np.lexsort((-cols["pt"], cols["event"]))
    record = ak.zip({f: cols[f][order].astype(dtype) for f, dtype in fields.items()})
    return ak.unflatten(record, np.bincount(cols["event"], minlength=n_events))


def _wrap_phi(phi):
    """Map to [-pi, pi), staying inside that range also after rounding to float32."""
    return np.clip((phi + np.pi) % (2 * np.pi) - np.pi, -_PHI_MAX, _PHI_MAX).astype(np.float32)


# --- kinematics helpers ---------------------------------------------------------------


def _breit_wigner(rng, m0, width, lo, hi, n):
    """Breit-Wigner (Cauchy) masses truncated to [lo, hi], sampled by inverse CDF."""
    a, b = np.arctan((np.array([lo, hi]) - m0) / (width / 2))
    return m0 + width / 2 * np.tan(rng.uniform(a, b, n))


def _jet_mass(rng, n):
    return np.minimum(1.0 + rng.gamma(2.0, 2.0, n), 20.0)


def _parent(rng, mass, pt_scale, y_sigma):
    """Four-momenta (n, 4) = (px, py, pz, E): exponential pT, Gaussian rapidity, flat phi."""
    n = len(mass)
    pt, y, phi = rng.exponential(pt_scale, n), rng.normal(0, y_sigma, n), rng.uniform(-np.pi, np.pi, n)
    mt = np.hypot(mass, pt)
    return np.column_stack([pt * np.cos(phi), pt * np.sin(phi), mt * np.sinh(y), mt * np.cosh(y)])


def _boost(p, parent, mass):
    """Boost rest-frame four-momenta p into the frame where the parent has momentum `parent`."""
    beta = parent[:, :3] / parent[:, 3:]
    gamma = parent[:, 3] / mass
    bp = np.einsum("ij,ij->i", beta, p[:, :3])
    vec = p[:, :3] + (gamma**2 / (gamma + 1) * bp + gamma * p[:, 3])[:, None] * beta
    return np.column_stack([vec, gamma * (p[:, 3] + bp)])


def _decay(rng, parent, mass, m1, m2):
    """Isotropic two-body decay in the parent rest frame, boosted to the lab."""
    n = len(mass)
    m1, m2 = np.broadcast_to(m1, n), np.broadcast_to(m2, n)
    pstar = np.sqrt(np.maximum((mass**2 - (m1 + m2) ** 2) * (mass**2 - (m1 - m2) ** 2), 0)) / (2 * mass)
    cos, phi = rng.uniform(-1, 1, n), rng.uniform(-np.pi, np.pi, n)
    sin = np.sqrt(1 - cos**2)
    p3 = pstar[:, None] * np.column_stack([sin * np.cos(phi), sin * np.sin(phi), cos])
    d1 = np.column_stack([p3, np.hypot(pstar, m1)])
    d2 = np.column_stack([-p3, np.hypot(pstar, m2)])
    return _boost(d1, parent, mass), _boost(d2, parent, mass)


def _pt_eta_phi(p):
    pt = np.hypot(p[:, 0], p[:, 1])
    return pt, np.arcsinh(p[:, 2] / pt), np.arctan2(p[:, 1], p[:, 0])


def _charges(rng, n):
    return rng.choice(np.array([-1, 1]), n)


# --- physics objects ------------------------------------------------------------------


def _add_jets(rng, out, ev, pt, eta, phi, mass, is_b):
    """Reco-level jets; b jets get a high b-tag score and sometimes a soft non-prompt lepton."""
    is_b = np.broadcast_to(is_b, len(ev))
    btag = np.where(is_b, rng.beta(10.0, 1.0, len(ev)), rng.beta(1.0, 12.0, len(ev)))
    out.jets.append(dict(event=ev, pt=pt, eta=eta, phi=phi, mass=mass, btag=btag))
    soft = rng.random(len(ev)) < np.where(is_b, 0.25, 0.01)
    n = int(soft.sum())
    is_mu = rng.random(n) < 0.6
    lpt = np.minimum(3.0 + rng.exponential(4.0, n), 0.5 * pt[soft])
    leta, lphi = eta[soft] + rng.normal(0, 0.1, n), phi[soft] + rng.normal(0, 0.1, n)
    _add_leptons_direct(out, ev[soft], lpt, leta, lphi, _charges(rng, n), is_mu)


def _add_jets_p4(rng, out, ev, p4, mass, is_b):
    """Jets from partons: 10% energy resolution (the jet mass scales with the four-vector)."""
    pt, eta, phi = _pt_eta_phi(p4)
    scale = np.maximum(rng.normal(1.0, 0.10, len(ev)), 0.3)
    _add_jets(rng, out, ev, pt * scale, eta, phi, mass * scale, is_b)


def _add_leptons_direct(out, ev, pt, eta, phi, charge, is_mu):
    for coll, sel, m in ((out.muons, is_mu, MUON_MASS), (out.electrons, ~is_mu, ELECTRON_MASS)):
        coll.append(dict(event=ev[sel], pt=pt[sel], eta=eta[sel], phi=phi[sel],
                         mass=np.full(int(sel.sum()), m), charge=charge[sel]))


def _add_leptons_p4(rng, out, ev, p4, charge, is_mu):
    """Prompt leptons (pT resolution 1.5% for muons, 2.5% for electrons).  As in NanoAOD,
    most electrons (and a few muons) are also clustered into a jet, so jets need cleaning."""
    pt, eta, phi = _pt_eta_phi(p4)
    pt = pt * rng.normal(1.0, np.where(is_mu, 0.015, 0.025))
    _add_leptons_direct(out, ev, pt, eta, phi, charge, is_mu)
    dup = rng.random(len(ev)) < np.where(is_mu, 0.1, 0.7)
    n = int(dup.sum())
    _add_jets(rng, out, ev[dup], pt[dup] * rng.uniform(1.0, 1.3, n), eta[dup] + rng.normal(0, 0.03, n),
              phi[dup] + rng.normal(0, 0.03, n), _jet_mass(rng, n), False)


def _recoil_jet(rng, out, ev, system):
    """An initial-state-radiation jet roughly balancing the transverse momentum of `system`."""
    pt, _, phi = _pt_eta_phi(system)
    n = len(ev)
    _add_jets(rng, out, ev, pt * rng.uniform(0.7, 1.1, n), rng.normal(0, 1.8, n),
              phi + np.pi + rng.normal(0, 0.2, n), _jet_mass(rng, n), False)


# --- decays ---------------------------------------------------------------------------


def _leptonic_w(rng, out, ev, w, mw):
    n = len(ev)
    is_mu = rng.random(n) < 0.5
    lep, nu = _decay(rng, w, mw, np.where(is_mu, MUON_MASS, ELECTRON_MASS), 0.0)
    _add_leptons_p4(rng, out, ev, lep, _charges(rng, n), is_mu)
    out.neutrinos.append(dict(event=ev, px=nu[:, 0], py=nu[:, 1]))


def _leptonic_z(rng, out, ev, z, mz, is_mu):
    n = len(ev)
    is_mu = np.broadcast_to(is_mu, n)
    m = np.where(is_mu, MUON_MASS, ELECTRON_MASS)
    l1, l2 = _decay(rng, z, mz, m, m)
    q = _charges(rng, n)
    _add_leptons_p4(rng, out, ev, l1, q, is_mu)
    _add_leptons_p4(rng, out, ev, l2, -q, is_mu)


def _top_to_b_w(rng, out, ev, top, mt):
    n = len(ev)
    mw, mb = _breit_wigner(rng, 80.377, 2.085, 65, 95, n), _jet_mass(rng, n)
    b, w = _decay(rng, top, mt, mb, mw)
    _add_jets_p4(rng, out, ev, b, mb, True)
    return w, mw


def _hadronic_top(rng, out, ev, top, mt):
    w, mw = _top_to_b_w(rng, out, ev, top, mt)
    m1, m2 = _jet_mass(rng, len(ev)), _jet_mass(rng, len(ev))
    q1, q2 = _decay(rng, w, mw, m1, m2)
    _add_jets_p4(rng, out, ev, q1, m1, False)
    _add_jets_p4(rng, out, ev, q2, m2, False)


# --- processes ------------------------------------------------------------------------


def _z_to_ll(rng, out, ev, is_mu):
    mz = _breit_wigner(rng, 91.1876, 2.4952, 50, 150, len(ev))
    z = _parent(rng, mz, pt_scale=12.0, y_sigma=1.3)
    _leptonic_z(rng, out, ev, z, mz, is_mu)
    _recoil_jet(rng, out, ev, z)


def _w_to_lnu(rng, out, ev):
    mw = _breit_wigner(rng, 80.377, 2.085, 50, 130, len(ev))
    w = _parent(rng, mw, pt_scale=10.0, y_sigma=1.5)
    _leptonic_w(rng, out, ev, w, mw)
    _recoil_jet(rng, out, ev, w)


def _wz(rng, out, ev):
    n = len(ev)
    mw, mz = _breit_wigner(rng, 80.377, 2.085, 50, 130, n), _breit_wigner(rng, 91.1876, 2.4952, 60, 120, n)
    m_sys = mw + mz + rng.exponential(100.0, n)
    system = _parent(rng, m_sys, pt_scale=20.0, y_sigma=1.0)
    w, z = _decay(rng, system, m_sys, mw, mz)
    _leptonic_w(rng, out, ev, w, mw)
    _leptonic_z(rng, out, ev, z, mz, rng.random(n) < 0.5)
    _recoil_jet(rng, out, ev, system)


def _ttbar(rng, out, ev):
    """One hadronic top (b + two light jets); the other decays to b + lepton + neutrino
    in half the events and hadronically in the other half."""
    n = len(ev)
    mt1, mt2 = (_breit_wigner(rng, 172.5, 1.42, 150, 195, n) for _ in range(2))
    m_tt = mt1 + mt2 + rng.exponential(120.0, n)
    tt = _parent(rng, m_tt, pt_scale=25.0, y_sigma=0.8)
    t1, t2 = _decay(rng, tt, m_tt, mt1, mt2)
    _hadronic_top(rng, out, ev, t1, mt1)
    lep = rng.random(n) < 0.5
    _hadronic_top(rng, out, ev[~lep], t2[~lep], mt2[~lep])
    w, mw = _top_to_b_w(rng, out, ev[lep], t2[lep], mt2[lep])
    _leptonic_w(rng, out, ev[lep], w, mw)
    _recoil_jet(rng, out, ev, tt)


def _qcd(rng, out, ev):
    """2-6 jets: a back-to-back leading pair with a falling (power-law) pT spectrum + extra jets."""
    n = len(ev)
    pt1 = np.minimum(30.0 * (1 - rng.random(n)) ** (-1 / 3), 3000.0)
    phi1 = rng.uniform(-np.pi, np.pi, n)
    n_extra = rng.integers(0, 5, n)
    ev_x = np.repeat(ev, n_extra)
    pt_x = np.minimum(20.0 * (1 - rng.random(len(ev_x))) ** (-1 / 2.5), np.repeat(pt1, n_extra))
    all_ev = np.concatenate([ev, ev, ev_x])
    pt = np.concatenate([pt1, pt1 * rng.uniform(0.6, 1.0, n), pt_x])
    phi = np.concatenate([phi1, phi1 + np.pi + rng.normal(0, 0.2, n), rng.uniform(-np.pi, np.pi, len(ev_x))])
    m = len(all_ev)
    _add_jets(rng, out, all_ev, pt, rng.normal(0, 1.8, m), phi, _jet_mass(rng, m), rng.random(m) < 0.04)


def _pileup(rng, out, n_events):
    """Soft (15-40 GeV, log-uniform) jets from pileup, Poisson-distributed per event."""
    ev = np.repeat(np.arange(n_events), rng.poisson(0.7, n_events))
    m = len(ev)
    _add_jets(rng, out, ev, 15.0 * (40.0 / 15.0) ** rng.random(m), rng.uniform(-4.7, 4.7, m),
              rng.uniform(-np.pi, np.pi, m), _jet_mass(rng, m), False)


_PROCESSES = {
    "qcd": _qcd,
    "wlnu": _w_to_lnu,
    "ttbar": _ttbar,
    "zmumu": lambda rng, out, ev: _z_to_ll(rng, out, ev, True),
    "zee": lambda rng, out, ev: _z_to_ll(rng, out, ev, False),
    "wz": _wz,
}


def _generate_chunk(rng, n, fractions=PROCESS_FRACTIONS):
    """All branches for n events: the process mixture, pileup, MET and the collections."""
    counts = np.floor(np.array(list(fractions.values())) * n).astype(np.int64)
    counts[0] += n - counts.sum()
    labels = rng.permutation(np.repeat(np.arange(len(counts)), counts))
    out = _Chunk()
    for i, name in enumerate(fractions):
        _PROCESSES[name](rng, out, np.flatnonzero(labels == i))
    _pileup(rng, out, n)

    jet_ev = np.concatenate([j["event"] for j in out.jets])
    ht = np.bincount(jet_ev, weights=np.concatenate([j["pt"] for j in out.jets]), minlength=n)
    sigma = 3.0 + 0.5 * np.sqrt(ht)  # MET resolution grows with hadronic activity
    met = [rng.normal(0, sigma), rng.normal(0, sigma)]
    for k, comp in enumerate(("px", "py")):
        for nu in out.neutrinos:
            met[k] += np.bincount(nu["event"], weights=nu[comp], minlength=n)

    float4 = {f: np.float32 for f in ("pt", "eta", "phi", "mass")}
    leptons = {**float4, "charge": np.int32}
    return {
        "MET_pt": np.hypot(met[0], met[1]).astype(np.float32),
        "MET_phi": _wrap_phi(np.arctan2(met[1], met[0])),
        "Jet": _jagged(out.jets, n, 15.0, 4.7, {**float4, "btag": np.float32}),
        "Muon": _jagged(out.muons, n, 3.0, 2.5, leptons),
        "Electron": _jagged(out.electrons, n, 5.0, 2.5, leptons),
    }


@contextlib.contextmanager
def _uint32_counters():
    """uproot (5.x) always declares the generated counter branches (nJet, ...) as int32,
    with no public option to change it.  NanoAOD counters are UInt_t, so while the tree
    is declared, make uproot's writer give counters the uint32 type (TLeafI with
    fIsUnsigned, title "nJet/i"); the rest of the writing path follows the declared type."""
    tree_cls = uproot.writing._cascadetree.Tree
    original = tree_cls._branch_np

    def branch_np(self, branch_name, branch_type, branch_dtype, counter=None, kind="normal"):
        if kind == "counter":
            branch_type = branch_dtype = np.dtype(np.uint32)
        return original(self, branch_name, branch_type, branch_dtype, counter=counter, kind=kind)

    tree_cls._branch_np = branch_np
    try:
        yield
    finally:
        tree_cls._branch_np = original


def generate_sample(path, n_events=config.SAMPLE_EVENTS, seed=config.SAMPLE_SEED) -> pathlib.Path:
    """Write the deterministic NanoAOD-like sample to a ROOT file and return its path.

    The file holds a TTree ``Events`` with MET, Jet, Muon and Electron branches (see the
    module docstring).  Events are a fixed mixture of QCD multijets, W->lnu, ttbar,
    Z->mumu, Z->ee and WZ->3l+nu (``PROCESS_FRACTIONS``), plus pileup jets.  The arrays
    depend only on ``(n_events, seed)``.

    Example:
        >>> import uproot
        >>> from vibeplot.datasets.sample import generate_sample
        >>> path = generate_sample("/tmp/sample.root", n_events=10_000)
        >>> tree = uproot.open(path)["Events"]
        >>> tree.num_entries, tree["nJet"].typename, tree["Jet_pt"].typename
        (10000, 'uint32_t', 'float[]')
    """
    return _write_events(path, n_events, seed, _BRANCH_TYPES, _generate_chunk)


def _write_events(path, n_events: int, seed: int, branch_types: dict, chunk) -> pathlib.Path:
    """Write ``n_events`` to ``path``'s ``Events`` tree in chunks of :data:`CHUNK_SIZE`, each
    ``chunk(rng, n)`` drawn from its own generator seeded ``[seed, chunk index]``."""
    if n_events < 0:
        raise ValueError(f"n_events must be non-negative, got {n_events}")
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with uproot.recreate(path, compression=uproot.ZSTD(1)) as file:
        with _uint32_counters():
            tree = file.mktree("Events", branch_types)
        for i, start in enumerate(range(0, n_events, CHUNK_SIZE)):
            tree.extend(chunk(np.random.default_rng([seed, i]), min(CHUNK_SIZE, n_events - start)))
    return path


# --- the weighted sample ----------------------------------------------------------------

#: the weighted sample: Drell-Yan Z -> mumu / ee (+ recoil jet), half each
WEIGHTED_FRACTIONS = {"zmumu": 0.5, "zee": 0.5}
#: |genWeight| = WEIGHT_SCALE x a smooth spread (log-normal, sigma WEIGHT_SPREAD) ...
WEIGHT_SCALE = 1250.0
WEIGHT_SPREAD = 0.1
#: ... and this fraction of events (on average) has a negative weight, as in NLO samples
NEGATIVE_FRACTION = 0.15


def _gen_weights(rng, n):
    """Per-event generator weights: a fixed scale times a smooth spread, some negative."""
    sign = np.where(rng.random(n) < NEGATIVE_FRACTION, -1.0, 1.0)
    return (sign * WEIGHT_SCALE * np.exp(rng.normal(0.0, WEIGHT_SPREAD, n))).astype(np.float32)


def generate_weighted_sample(path, n_events, seed) -> pathlib.Path:
    """Write the deterministic weighted sample: the schema of :func:`generate_sample` plus a
    per-event ``genWeight`` (float32), for a Z -> ll + jets process (``WEIGHTED_FRACTIONS``).
    The arrays depend only on ``(n_events, seed)``; :func:`sum_of_weights` gives Σw.

    Example:
        >>> import uproot
        >>> path = generate_weighted_sample("/tmp/weighted.root", n_events=1000, seed=1)
        >>> w = uproot.open(path)["Events"]["genWeight"].array(library="np")
        >>> len(w), w.dtype.name, bool((w < 0).any() and (w > 0).any())
        (1000, 'float32', True)
    """
    return _write_events(path, n_events, seed, _WEIGHTED_TYPES, _weighted_chunk)


_WEIGHTED_TYPES = {"genWeight": "float32", **_BRANCH_TYPES}


def _weighted_chunk(rng, n):
    branches = _generate_chunk(rng, n, WEIGHTED_FRACTIONS)  # first: the weights come after, as always
    return {"genWeight": _gen_weights(rng, n), **branches}


def generate_weighted_files(paths, file_events, seed) -> list[pathlib.Path]:
    """The events of ``generate_weighted_sample(path, sum(file_events), seed)``, split in order over
    several files: the first ``file_events[0]`` events into ``paths[0]``, the next into ``paths[1]``, ...
    (a sample spread over files, like a real one; the weights are the same, so Σw over all the
    files is that of the single-file sample).

    Example:
        >>> import uproot
        >>> a, b = generate_weighted_files(["/tmp/w-1.root", "/tmp/w-2.root"], (600, 400), seed=1)
        >>> [uproot.open(p)["Events"].num_entries for p in (a, b)]
        [600, 400]
    """
    if len(paths) != len(file_events) or any(n < 0 for n in file_events):
        raise ValueError(f"one non-negative event count per file, got {list(file_events)} for {len(paths)} files")
    total = sum(file_events)
    chunks = [_weighted_chunk(np.random.default_rng([seed, i]), min(CHUNK_SIZE, total - start))
              for i, start in enumerate(range(0, total, CHUNK_SIZE))]
    events = {k: ak.concatenate([c[k] for c in chunks]) if isinstance(chunks[0][k], ak.Array)
              else np.concatenate([c[k] for c in chunks]) for k in _WEIGHTED_TYPES} if chunks else {}
    out, start = [], 0
    for path, n in zip(paths, file_events):
        path = pathlib.Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with uproot.recreate(path, compression=uproot.ZSTD(1)) as file:
            with _uint32_counters():
                tree = file.mktree("Events", _WEIGHTED_TYPES)
            if n:
                tree.extend({k: v[start:start + n] for k, v in events.items()})
        out.append(path)
        start += n
    return out


def sum_of_weights(path) -> float:
    """Σ genWeight over a file, or over a list of files taken together (float64 sum of the stored
    float32 weights, in file order, so a sample split over files gives its single-file Σw)."""
    paths = [path] if isinstance(path, (str, pathlib.Path)) else list(path)
    weights = []
    for p in paths:
        with uproot.open(p) as f:
            weights.append(f["Events"]["genWeight"].array(library="np"))
    return float(np.sum(np.concatenate(weights), dtype=np.float64))
