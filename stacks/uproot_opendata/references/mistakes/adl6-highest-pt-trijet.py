# Known mistake for ADL benchmark 6 (not a solution): take the trijet with the highest pT instead
# of the one whose invariant mass is closest to 172.5 GeV. The validator runs this to name the
# mistake when a candidate's plots match it.
import awkward as ak
import hist
import numpy as np
import uproot
import vector

vector.register_awkward()

INPUT_FILE = "{{dataset}}"

with uproot.open(INPUT_FILE) as f:
    events = f["Events"].arrays(["Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass", "Jet_btag"])
    events = ak.values_astype(events, np.float64)

events = events[ak.num(events.Jet_pt) >= 3]
jets = ak.zip(
    {"pt": events.Jet_pt, "eta": events.Jet_eta, "phi": events.Jet_phi,
     "mass": events.Jet_mass, "btag": events.Jet_btag},
    with_name="Momentum4D",
)
trijets = ak.combinations(jets, 3, fields=["j1", "j2", "j3"])
trijet_p4 = trijets.j1 + trijets.j2 + trijets.j3
best = ak.argmax(trijet_p4.pt, axis=1, keepdims=True)
max_btag = np.maximum(np.maximum(trijets.j1.btag, trijets.j2.btag), trijets.j3.btag)

hist.Hist.new.Reg(50, 0, 400, name="pt", label="Trijet pT [GeV]").Double().fill(pt=ak.flatten(trijet_p4[best].pt))
hist.Hist.new.Reg(50, 0, 1, name="btag", label="Max b-tag in trijet").Double().fill(btag=ak.flatten(max_btag[best]))
