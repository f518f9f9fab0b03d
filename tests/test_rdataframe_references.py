"""The rdataframe stack's reference solutions (ADL benchmarks 1-8), as written: both modes
(``references/`` through ServiceX, ``references/direct`` on a file) follow the house style.

That they *run* and draw exactly the histograms of the uproot_opendata references is checked end to
end in tests/test_reference_e2e.py: every question is asked with ``--model reference`` in every stack
and mode on the 100k-event embedded sample, and ``test_stacks_agree_bin_for_bin`` compares the
captured histograms bin for bin (same edges, same contents), ``test_every_reference_validates_every_other``
cross-validates them.

Precision: the awkward references compute four-vectors, deltaR, HT and mT in double
precision (``ak.values_astype(..., np.float64)``); the RDataFrame references do the same
(``ROOT::Math::PtEtaPhiMVector``, ``DeltaR<double>``, double sums), except ADL 5's
``InvariantMasses`` on float columns (it differs from double by at most 3.4e-5 GeV for 50-130 GeV
pairs in 1M events), which matters only that close to the 60/120 GeV window edges.
"""

from __future__ import annotations

from pathlib import Path

import pytest

STACKS = Path(__file__).resolve().parents[1] / "stacks"
RDF_REFS = STACKS / "rdataframe" / "references"
PLACEHOLDER = "{{dataset}}"
PNGS = {
    "adl1": ["met.png"],
    "adl2": ["jet_pt.png"],
    "adl3": ["jet_pt_eta1.png"],
    "adl4": ["met_2jets.png"],
    "adl5": ["met_zmumu.png"],
    "adl6": ["trijet_pt.png", "trijet_maxbtag.png"],
    "adl7": ["ht_cleaned.png"],
    "adl8": ["mt_lep_met.png"],
}
VARIANTS = {"servicex": RDF_REFS, "direct": RDF_REFS / "direct"}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", list(PNGS))
def test_reference_is_well_formed(name, variant):
    source = (VARIANTS[variant] / f"{name}.py").read_text()
    lines = source.splitlines()
    assert source.count(PLACEHOLDER) == 1 and f'INPUT_FILE = "{PLACEHOLDER}"' in lines
    assert lines[0].startswith(f"# ADL benchmark {name[3:]}:")
    assert "ROOT.gROOT.SetBatch(True)" in source
    assert "ROOT.gStyle.SetOptStat(0)" in source, "no statistics box"
    assert source.count("DrawLatexNDC(") == 2 and "#it{Simulation}" in source, "the experiment label"
    code = [line for line in lines if not line.lstrip().startswith("#")]
    assert not any("EnableImplicitMT" in line for line in code), "references stay single-threaded"
    assert any("EnableImplicitMT" in line for line in lines), "a comment says how to enable implicit MT"
    for png in PNGS[name]:
        assert f'"{png}"' in source or f'"{png[:-4]}"' in source
    if variant == "servicex":
        assert "deliver(spec)" in source and "NFiles=1" in source and 'ROOT.RDataFrame("servicex", files)' in source
    else:
        assert "servicex" not in source and 'ROOT.RDataFrame("Events", INPUT_FILE)' in source
