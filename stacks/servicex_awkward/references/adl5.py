# ADL benchmark 5: MET of events with an opposite-charge muon pair whose invariant mass is in
# [60, 120] GeV (any pair may qualify). The query keeps events with >= 2 muons; pairs in awkward.
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
    .Select(lambda e: {"met": e.MET_pt, "mu_pt": e.Muon_pt, "mu_eta": e.Muon_eta, "mu_phi": e.Muon_phi,
                       "mu_mass": e.Muon_mass, "mu_charge": e.Muon_charge})
)
spec = ServiceXSpec(Sample=[Sample(Name="adl5", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1, Query=mu_query)])
events = to_awk(deliver(spec))["adl5"]
events = ak.values_astype(events, np.float64)  # four-vector arithmetic in double precision

muons = ak.zip(
    {"pt": events.mu_pt, "eta": events.mu_eta, "phi": events.mu_phi, "mass": events.mu_mass,
     "charge": events.mu_charge},
    with_name="Momentum4D",
)
pairs = ak.combinations(muons, 2, fields=["mu1", "mu2"])
mass = (pairs.mu1 + pairs.mu2).mass
good_pair = (pairs.mu1.charge != pairs.mu2.charge) & (mass >= 60) & (mass <= 120)
selected = events[ak.any(good_pair, axis=1)]

h = hist.Hist.new.Reg(50, 0, 200, name="met", label=r"$E_T^{miss}$ [GeV]").Double()
h.fill(met=selected.met)
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
