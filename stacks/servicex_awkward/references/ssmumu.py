# vibeplot extra benchmark ss-mumu: plot the invariant mass of every same-charge muon pair
# (one entry per pair, all events, no muon pT/eta cut).
# The query keeps events with >= 2 muons (the only ones with a pair); pairs are formed in awkward.
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

mu_query = (
    query.FuncADL_Uproot()
    .FromTree("Events")
    .Where(lambda e: e.Muon_pt.Count() >= 2)
    .Select(lambda e: {"mu_pt": e.Muon_pt, "mu_eta": e.Muon_eta, "mu_phi": e.Muon_phi,
                       "mu_mass": e.Muon_mass, "mu_charge": e.Muon_charge})
)
spec = ServiceXSpec(Sample=[Sample(Name="ss_mumu", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1,
                                   Query=mu_query)])
events = to_awk(deliver(spec))["ss_mumu"]
events = ak.values_astype(events, np.float64)  # four-vector arithmetic in double precision

muons = ak.zip(
    {"pt": events.mu_pt, "eta": events.mu_eta, "phi": events.mu_phi, "mass": events.mu_mass,
     "charge": events.mu_charge},
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
