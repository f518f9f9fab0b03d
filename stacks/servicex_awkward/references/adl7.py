# ADL benchmark 7: per event, scalar sum of the pT of jets with pT > 30 GeV that are not within
# dR < 0.4 of any light lepton (electron or muon) with pT > 10 GeV.
# Every event is kept; an event with no such jet contributes HT = 0.
import awkward as ak
import hist
import matplotlib.pyplot as plt
import mplhep as hep
import numpy as np
import vector
from servicex import Sample, ServiceXSpec, dataset, deliver, query
from servicex_analysis_utils import to_awk

vector.register_awkward()
INPUT_FILE = "{{dataset}}"

ht_query = query.FuncADL_Uproot().FromTree("Events").Select(lambda e: {
    "jet_pt": e.Jet_pt, "jet_eta": e.Jet_eta, "jet_phi": e.Jet_phi,
    "mu_pt": e.Muon_pt, "mu_eta": e.Muon_eta, "mu_phi": e.Muon_phi,
    "el_pt": e.Electron_pt, "el_eta": e.Electron_eta, "el_phi": e.Electron_phi,
})
spec = ServiceXSpec(Sample=[Sample(Name="adl7", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1, Query=ht_query)])
events = to_awk(deliver(spec))["adl7"]
events = ak.values_astype(events, np.float64)  # four-vector arithmetic in double precision


def momenta(prefix):
    return ak.zip({v: events[f"{prefix}_{v}"] for v in ("pt", "eta", "phi")}, with_name="Momentum3D")


jets = momenta("jet")
jets = jets[jets.pt > 30]
leptons = ak.concatenate([momenta("mu"), momenta("el")], axis=1)
leptons = leptons[leptons.pt > 10]
jet_lepton = ak.cartesian([jets, leptons], nested=True)
near_lepton = ak.any(jet_lepton["0"].deltaR(jet_lepton["1"]) < 0.4, axis=2)
ht = ak.sum(jets[~near_lepton].pt, axis=1)

h = hist.Hist.new.Reg(40, 0, 800, name="ht", label=r"$H_T$ (jets $p_T > 30$ GeV, lepton-cleaned) [GeV]").Double()
h.fill(ht=ht)
print(f"entries: {h.sum()}")

hep.style.use("CMS")
fig, ax = plt.subplots()
h.plot(ax=ax, histtype="fill", label="All events")
ax.set_ylabel("Events")
ax.set_yscale("log")
ax.legend()
# The embedded sample as datasets/catalog.toml describes it: simulation in a CMS-like schema, no
# beam energy or luminosity; so the label gives neither.
hep.label.exp_label(exp="CMS-like", data=False, rlabel="ADL benchmark sample", ax=ax)
fig.tight_layout()  # nothing clipped
plt.savefig("ht_cleaned.png")
