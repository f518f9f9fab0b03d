# ADL benchmark 7: per event, scalar sum of the pT of jets with pT > 30 GeV that are not
# within dR < 0.4 of any light lepton (electron or muon) with pT > 10 GeV.
# Every event is kept; an event with no such jet contributes HT = 0.
import awkward as ak
import hist
import matplotlib.pyplot as plt
import mplhep as hep
import numpy as np
import uproot
import vector

vector.register_awkward()

INPUT_FILE = "{{dataset}}"

with uproot.open(INPUT_FILE) as f:
    events = f["Events"].arrays(
        [f"{obj}_{var}" for obj in ("Jet", "Muon", "Electron") for var in ("pt", "eta", "phi")]
    )
    events = ak.values_astype(events, np.float64)  # four-vector arithmetic in double precision


def momenta(obj):
    fields = {var: events[f"{obj}_{var}"] for var in ("pt", "eta", "phi")}
    return ak.zip(fields, with_name="Momentum3D")


jets = momenta("Jet")
jets = jets[jets.pt > 30]
leptons = ak.concatenate([momenta("Muon"), momenta("Electron")], axis=1)
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
