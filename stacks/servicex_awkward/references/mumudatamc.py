# Several samples: the dimuon mass (events with exactly two muons, of opposite charge) in the toy data
# and the toy Z->mumu MC, the MC normalised to the data's luminosity; data as points, MC as a filled histogram.
# One deliver call with one Sample per dataset; pairs and masses in awkward + vector.
import awkward as ak
import hist
import matplotlib.pyplot as plt
import mplhep as hep
import numpy as np
import vector
from servicex import Sample, ServiceXSpec, dataset, deliver, query
from servicex_analysis_utils import to_awk

vector.register_awkward()

DATA_FILE = "{{dataset1}}"  # toy-dimuon-data: 5 pb^-1, no weights
MC_FILE = "{{dataset2}}"  # toy-zmumu-mc: genWeight
# MC weight = genWeight * sigma[pb] * filter efficiency * k-factor * L[pb^-1] / (sum of genWeight over the
# whole sample), with the catalog's numbers; L = the data's 5 pb^-1.
LUMI_PB = 5.0
SCALE = 2000.0 * 0.9 * 1.1 * LUMI_PB / 8697462.135742188


events_2mu = query.FuncADL_Uproot().FromTree("Events").Where(lambda e: e.Muon_pt.Count() == 2)
data_query = events_2mu.Select(lambda e: {"mu_pt": e.Muon_pt, "mu_eta": e.Muon_eta, "mu_phi": e.Muon_phi,
                                          "mu_mass": e.Muon_mass, "mu_charge": e.Muon_charge})
mc_query = events_2mu.Select(lambda e: {"mu_pt": e.Muon_pt, "mu_eta": e.Muon_eta, "mu_phi": e.Muon_phi,
                                        "mu_mass": e.Muon_mass, "mu_charge": e.Muon_charge, "w": e.genWeight})
spec = ServiceXSpec(Sample=[
    Sample(Name="data", Dataset=dataset.FileList([DATA_FILE]), NFiles=1, Query=data_query),
    Sample(Name="zmumu", Dataset=dataset.FileList([MC_FILE]), NFiles=1, Query=mc_query),
])
delivered = to_awk(deliver(spec))


def dimuon_mass(events):
    """The pair's mass in events with two opposite-charge muons, and those events."""
    events = events[events.mu_charge[:, 0] != events.mu_charge[:, 1]]
    muons = ak.zip({"pt": events.mu_pt, "eta": events.mu_eta, "phi": events.mu_phi, "mass": events.mu_mass},
                   with_name="Momentum4D")
    muons = ak.values_astype(muons, np.float64)  # four-vector arithmetic in double precision
    return ak.to_numpy((muons[:, 0] + muons[:, 1]).mass), events


data_mass, _ = dimuon_mass(delivered["data"])
mc_mass, mc_events = dimuon_mass(delivered["zmumu"])

h_data = hist.Hist.new.Reg(30, 60, 120, name="mass", label=r"$m_{\mu\mu}$ [GeV]").Double(label="Data")
h_data.fill(mass=data_mass)
h_mc = hist.Hist.new.Reg(30, 60, 120, name="mass", label=r"$m_{\mu\mu}$ [GeV]").Weight(label="Z->mumu MC")
h_mc.fill(mass=mc_mass, weight=np.asarray(mc_events.w, dtype=np.float64) * SCALE)
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
