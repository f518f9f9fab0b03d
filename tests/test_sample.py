"""Tests of the embedded-sample generator (vibeplot.datasets.sample)."""

import awkward as ak
import numpy as np
import pytest
import uproot
import vector

from vibeplot.datasets import sample as sample_module
from vibeplot.datasets.sample import generate_sample

vector.register_awkward()

COUNTERS = ["nJet", "nMuon", "nElectron"]
EXPECTED_BRANCHES = [
    "MET_pt", "MET_phi",
    "nJet", "Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass", "Jet_btag",
    "nMuon", "Muon_pt", "Muon_eta", "Muon_phi", "Muon_mass", "Muon_charge",
    "nElectron", "Electron_pt", "Electron_eta", "Electron_phi", "Electron_mass", "Electron_charge",
]


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory):
    return generate_sample(tmp_path_factory.mktemp("sample") / "sample.root", n_events=20_000)


@pytest.fixture(scope="module")
def events(sample_path):
    with uproot.open(sample_path) as f:
        return f["Events"].arrays()


def p4(events, obj, **extra):
    fields = {v: events[f"{obj}_{v}"] for v in ("pt", "eta", "phi", "mass")}
    fields.update({k: events[f"{obj}_{v}"] for k, v in extra.items()})
    return ak.zip(fields, with_name="Momentum4D")


def test_returns_path_and_has_exact_schema(sample_path):
    assert sample_path.is_file()
    with uproot.open(sample_path) as f:
        tree = f["Events"]
        assert tree.num_entries == 20_000
        assert tree.keys() == EXPECTED_BRANCHES
        for name in EXPECTED_BRANCHES:
            interp = tree[name].interpretation
            if name in COUNTERS:
                assert tree[name].typename == "uint32_t"
                assert interp == uproot.AsDtype(">u4")
            elif name.startswith("MET_"):
                assert interp == uproot.AsDtype(">f4")
            else:
                assert isinstance(interp, uproot.AsJagged), name
                expected = ">i4" if name.endswith("_charge") else ">f4"
                assert interp.content == uproot.AsDtype(expected), name
                assert tree[name].count_branch.name == "n" + name.split("_")[0]


def test_array_types_and_counts(events):
    assert events.nJet.type.content == ak.types.NumpyType("uint32")
    assert str(events.Jet_pt.type.content) == "var * float32"
    assert str(events.Muon_charge.type.content) == "var * int32"
    assert str(events.MET_pt.type.content) == "float32"
    for obj in ("Jet", "Muon", "Electron"):
        assert ak.all(ak.num(events[f"{obj}_pt"]) == events[f"n{obj}"])


def test_value_ranges(events):
    assert ak.all(events.MET_pt >= 0)
    for obj, eta_max in (("Jet", 4.7), ("Muon", 2.5), ("Electron", 2.5)):
        phi = ak.flatten(events[f"{obj}_phi"])
        assert ak.all(phi >= -np.pi) and ak.all(phi < np.pi)
        assert ak.all(abs(events[f"{obj}_eta"]) <= eta_max)
        pt = events[f"{obj}_pt"]
        assert ak.all(pt > 0)
        assert ak.all(pt[:, :-1] >= pt[:, 1:]), f"{obj} not sorted by pT"
    assert ak.all(events.MET_phi >= -np.pi) and ak.all(events.MET_phi < np.pi)
    assert ak.all(events.Jet_mass > 0) and ak.max(events.Jet_mass) < 50
    np.testing.assert_allclose(ak.flatten(events.Muon_mass), 0.1057, rtol=1e-6)
    np.testing.assert_allclose(ak.flatten(events.Electron_mass), 0.000511, rtol=1e-6)
    for obj in ("Muon", "Electron"):
        assert set(np.unique(ak.flatten(events[f"{obj}_charge"]))) == {-1, 1}
    btag = ak.flatten(events.Jet_btag)
    assert ak.all((btag >= 0) & (btag <= 1))
    assert 0.03 < ak.mean(btag > 0.5) < 0.3


def test_multiplicities(events):
    n = len(events)
    assert ak.sum(events.nJet == 0) > 0.02 * n
    assert ak.sum(events.nJet >= 3) > 0.3 * n
    assert ak.sum(events.Electron_pt > 25) > 0
    n_lep = events.nMuon + events.nElectron

    def has_os(charges):
        pairs = ak.combinations(charges, 2)
        return ak.any(pairs["0"] != pairs["1"], axis=1)

    sfos_3l = (n_lep >= 3) & (has_os(events.Muon_charge) | has_os(events.Electron_charge))
    assert 0.01 * n < ak.sum(sfos_3l) < 0.2 * n


def test_z_peak_in_opposite_charge_dimuons(events):
    pairs = ak.combinations(p4(events, "Muon", charge="charge"), 2, fields=["a", "b"])
    pairs = pairs[pairs.a.charge != pairs.b.charge]
    mass = ak.to_numpy(ak.flatten((pairs.a + pairs.b).mass))
    counts, edges = np.histogram(mass, bins=np.arange(60, 122, 2))
    assert 86 <= edges[np.argmax(counts)] < 96
    assert counts.sum() > 0.03 * len(events)  # several thousand per 100k events


def test_top_peak_in_trijets(events):
    jets = p4(events, "Jet", btag="btag")
    jets = jets[ak.sum(jets.btag > 0.5, axis=1) >= 2]
    bjets, light = jets[jets.btag > 0.5], jets[jets.btag <= 0.5]
    dijets = ak.combinations(light, 2, fields=["q1", "q2"])
    w_mass = (dijets.q1 + dijets.q2).mass
    counts, edges = np.histogram(ak.to_numpy(ak.flatten(w_mass)), bins=np.arange(0, 200, 10))
    assert 70 <= edges[np.argmax(counts)] < 90  # W -> qq peak
    dijets = dijets[(w_mass > 65) & (w_mass < 95)]
    cands = ak.cartesian({"b": bjets, "w": dijets})
    top_mass = (cands.b + cands.w.q1 + cands.w.q2).mass
    counts, edges = np.histogram(ak.to_numpy(ak.flatten(top_mass)), bins=np.arange(100, 300, 10))
    assert 160 <= edges[np.argmax(counts)] < 185


def _read_all(path):
    with uproot.open(path) as f:
        return f["Events"].arrays()


def test_deterministic_and_chunk_prefix(tmp_path, monkeypatch):
    monkeypatch.setattr(sample_module, "CHUNK_SIZE", 1000)  # exercise several extend() calls
    first = _read_all(generate_sample(tmp_path / "a.root", n_events=2500, seed=7))
    second = _read_all(generate_sample(tmp_path / "b.root", n_events=2500, seed=7))
    other_seed = _read_all(generate_sample(tmp_path / "c.root", n_events=2500, seed=8))
    shorter = _read_all(generate_sample(tmp_path / "d.root", n_events=2000, seed=7))
    assert len(first) == 2500
    for field in EXPECTED_BRANCHES:
        assert ak.array_equal(first[field], second[field]), field
        assert ak.array_equal(first[field][:2000], shorter[field]), field
    assert not ak.array_equal(first.Jet_pt, other_seed.Jet_pt)


def test_zero_events(tmp_path):
    with uproot.open(generate_sample(tmp_path / "sub" / "empty.root", n_events=0)) as f:
        assert f["Events"].num_entries == 0
    with pytest.raises(ValueError):
        generate_sample(tmp_path / "bad.root", n_events=-1)
