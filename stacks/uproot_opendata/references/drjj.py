# vibeplot extra benchmark dr-jj: plot deltaR between the two leading (highest-pT) jets in events
# with at least two jets.
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
    events = f["Events"].arrays(["Jet_pt", "Jet_eta", "Jet_phi"])
    events = ak.values_astype(events, np.float64)  # deltaR in double precision

events = events[ak.num(events.Jet_pt, axis=1) >= 2]
jets = ak.zip({"pt": events.Jet_pt, "eta": events.Jet_eta, "phi": events.Jet_phi}, with_name="Momentum3D")
jets = jets[ak.argsort(jets.pt, axis=1, ascending=False)]  # leading first, whatever the stored order
delta_r = jets[:, 0].deltaR(jets[:, 1])

h = hist.Hist.new.Reg(50, 0, 8, name="dr", label=r"$\Delta R(j_1, j_2)$").Double()
h.fill(dr=delta_r)
print(f"entries: {h.sum()}")

hep.style.use("CMS")
fig, ax = plt.subplots()
h.plot(ax=ax, histtype="fill", label=r"Events with $\geq 2$ jets")
ax.set_ylabel("Events")
ax.legend()
# The embedded sample as datasets/catalog.toml describes it: simulation in a CMS-like schema, no
# beam energy or luminosity; so the label gives neither.
hep.label.exp_label(exp="CMS-like", data=False, rlabel="ADL benchmark sample", ax=ax)
fig.tight_layout()  # nothing clipped
plt.savefig("dr_leading_jets.png")
