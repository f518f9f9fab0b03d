# Known mistake of mumu-data-mc: the Z->mumu MC filled with genWeight only, not normalised to the data's
# luminosity (records what that reading plots; the data is not drawn here).
import awkward as ak
import hist
import matplotlib.pyplot as plt
import numpy as np
import uproot
import vector

vector.register_awkward()

MC_FILE = "{{dataset2}}"

with uproot.open(MC_FILE) as f:
    events = f["Events"].arrays(["Muon_pt", "Muon_eta", "Muon_phi", "Muon_mass", "Muon_charge", "genWeight"])
events = events[ak.num(events.Muon_pt) == 2]
events = events[events.Muon_charge[:, 0] != events.Muon_charge[:, 1]]
muons = ak.zip({"pt": events.Muon_pt, "eta": events.Muon_eta, "phi": events.Muon_phi, "mass": events.Muon_mass},
               with_name="Momentum4D")
muons = ak.values_astype(muons, np.float64)
h = hist.Hist.new.Reg(30, 60, 120, name="mass", label=r"$m_{\mu\mu}$ [GeV]").Weight(label="Z->mumu MC")
h.fill(mass=ak.to_numpy((muons[:, 0] + muons[:, 1]).mass), weight=np.asarray(events.genWeight, dtype=np.float64))
fig, ax = plt.subplots()
h.plot(ax=ax, histtype="fill")
fig.savefig("mumu_unnormalised.png")
