# Several samples: the dimuon mass (events with exactly two muons, of opposite charge) in the toy data
# and the toy Z->mumu MC, the MC normalised to the data's luminosity; data as points, MC as a filled histogram.
import awkward as ak
import hist
import matplotlib.pyplot as plt
import mplhep as hep
import numpy as np
import uproot
import vector

vector.register_awkward()

DATA_FILE = "{{dataset1}}"  # toy-dimuon-data: 5 pb^-1, no weights
MC_FILE = "{{dataset2}}"  # toy-zmumu-mc: genWeight
# MC weight = genWeight * sigma[pb] * filter efficiency * k-factor * L[pb^-1] / (sum of genWeight over the
# whole sample), with the catalog's numbers; L = the data's 5 pb^-1.
LUMI_PB = 5.0
SCALE = 2000.0 * 0.9 * 1.1 * LUMI_PB / 8697462.135742188
MUON = ["Muon_pt", "Muon_eta", "Muon_phi", "Muon_mass", "Muon_charge"]


def dimuon_mass(path, weighted):
    """The pair's mass in events with exactly two opposite-charge muons, and the events' genWeight."""
    with uproot.open(path) as f:
        events = f["Events"].arrays(MUON + (["genWeight"] if weighted else []))
    events = events[ak.num(events.Muon_pt) == 2]
    events = events[events.Muon_charge[:, 0] != events.Muon_charge[:, 1]]
    muons = ak.zip({"pt": events.Muon_pt, "eta": events.Muon_eta, "phi": events.Muon_phi, "mass": events.Muon_mass},
                   with_name="Momentum4D")
    muons = ak.values_astype(muons, np.float64)  # four-vector arithmetic in double precision
    mass = ak.to_numpy((muons[:, 0] + muons[:, 1]).mass)
    return mass, (np.asarray(events.genWeight, dtype=np.float64) if weighted else None)


data_mass, _ = dimuon_mass(DATA_FILE, weighted=False)
mc_mass, mc_w = dimuon_mass(MC_FILE, weighted=True)

h_data = hist.Hist.new.Reg(30, 60, 120, name="mass", label=r"$m_{\mu\mu}$ [GeV]").Double(label="Data")
h_data.fill(mass=data_mass)
h_mc = hist.Hist.new.Reg(30, 60, 120, name="mass", label=r"$m_{\mu\mu}$ [GeV]").Weight(label="Z->mumu MC")
h_mc.fill(mass=mc_mass, weight=mc_w * SCALE)
print(f"data: {h_data.sum():.0f} events; MC: {h_mc.sum().value:.1f} expected")

hep.style.use("CMS")
fig, ax = plt.subplots()
hep.histplot(h_mc, ax=ax, histtype="fill", label=r"$Z\to\mu\mu$ (toy MC)")
hep.histplot(h_data, ax=ax, histtype="errorbar", color="black", label="Data (toy)")
ax.set_ylabel(r"Events / 2 GeV")
ax.legend()
# The toy samples as datasets/catalog.toml describes them: pseudo-data of 5 pb^-1 in a CMS-like schema.
hep.label.exp_label(exp="CMS-like", data=True, rlabel=r"5 pb$^{-1}$ (toy data)", ax=ax)
fig.tight_layout()  # nothing clipped
plt.savefig("mumu_data_mc.png")
