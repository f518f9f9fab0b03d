# vibeplot extra benchmark ss-mumu: plot the invariant mass of every same-charge muon pair
# (one entry per pair, all events, no muon pT/eta cut).
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
    events = f["Events"].arrays(["Muon_pt", "Muon_eta", "Muon_phi", "Muon_mass", "Muon_charge"])
    events = ak.values_astype(events, np.float64)  # four-vector arithmetic in double precision

muons = ak.zip(
    {"pt": events.Muon_pt, "eta": events.Muon_eta, "phi": events.Muon_phi,
     "mass": events.Muon_mass, "charge": events.Muon_charge},
    with_name="Momentum4D",
)
pairs = ak.combinations(muons, 2, fields=["mu1", "mu2"])
pairs = pairs[pairs.mu1.charge == pairs.mu2.charge]
mass = ak.flatten((pairs.mu1 + pairs.mu2).mass)

h = hist.Hist.new.Reg(50, 0, 300, name="mass", label=r"$m_{\mu\mu}$ (same charge) [GeV]").Double()
h.fill(mass=mass)
print(f"entries: {h.sum()}")

hep.style.use("CMS")
fig, ax = plt.subplots()
h.plot(ax=ax, histtype="fill", label=r"Same-charge $\mu\mu$ pairs")
ax.set_ylabel("Pairs")
ax.legend()
# The embedded sample as datasets/catalog.toml describes it: simulation in a CMS-like schema, no
# beam energy or luminosity; so the label gives neither.
hep.label.exp_label(exp="CMS-like", data=False, rlabel="ADL benchmark sample", ax=ax)
fig.tight_layout()  # nothing clipped
plt.savefig("ss_mumu_mass.png")
