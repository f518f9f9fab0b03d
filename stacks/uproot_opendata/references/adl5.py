# ADL benchmark 5: plot MET of events with an opposite-charge muon pair whose invariant
# mass is in [60, 120] GeV (any pair of muons in the event may qualify).
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
        ["MET_pt", "Muon_pt", "Muon_eta", "Muon_phi", "Muon_mass", "Muon_charge"]
    )
    events = ak.values_astype(events, np.float64)  # four-vector arithmetic in double precision

muons = ak.zip(
    {"pt": events.Muon_pt, "eta": events.Muon_eta, "phi": events.Muon_phi,
     "mass": events.Muon_mass, "charge": events.Muon_charge},
    with_name="Momentum4D",
)
pairs = ak.combinations(muons, 2, fields=["mu1", "mu2"])
mass = (pairs.mu1 + pairs.mu2).mass
good_pair = (pairs.mu1.charge != pairs.mu2.charge) & (mass >= 60) & (mass <= 120)
selected = events[ak.any(good_pair, axis=1)]

h = hist.Hist.new.Reg(50, 0, 200, name="met", label=r"$E_T^{miss}$ [GeV]").Double()
h.fill(met=selected.MET_pt)
print(f"entries: {h.sum()}")

hep.style.use("CMS")
fig, ax = plt.subplots()
h.plot(ax=ax, histtype="fill", label=r"OS $\mu\mu$, $60 \leq m_{\mu\mu} \leq 120$ GeV")
ax.set_ylabel("Events")
ax.legend()
# The embedded sample as datasets/catalog.toml describes it: simulation in a CMS-like schema, no
# beam energy or luminosity; so the label gives neither.
hep.label.exp_label(exp="CMS-like", data=False, rlabel="ADL benchmark sample", ax=ax)
fig.tight_layout()  # nothing clipped
plt.savefig("met_zmumu.png")
