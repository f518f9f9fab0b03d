# ADL benchmark 8: events with >= 3 light leptons (e, mu; no pT cut) and at least one
# same-flavour opposite-charge (SFOS) pair. Take the SFOS pair with mass closest to 91.2 GeV and
# plot mT = sqrt(2 pT MET (1 - cos dphi)) of MET and the highest-pT lepton not in that pair.
# The query keeps events with >= 3 leptons; the pairing runs in awkward.
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

lep_query = (
    query.FuncADL_Uproot()
    .FromTree("Events")
    .Where(lambda e: e.Muon_pt.Count() + e.Electron_pt.Count() >= 3)
    .Select(lambda e: {
        "met": e.MET_pt, "met_phi": e.MET_phi,
        "mu_pt": e.Muon_pt, "mu_eta": e.Muon_eta, "mu_phi": e.Muon_phi, "mu_mass": e.Muon_mass,
        "mu_charge": e.Muon_charge,
        "el_pt": e.Electron_pt, "el_eta": e.Electron_eta, "el_phi": e.Electron_phi, "el_mass": e.Electron_mass,
        "el_charge": e.Electron_charge,
    })
)
spec = ServiceXSpec(Sample=[Sample(Name="adl8", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1, Query=lep_query)])
events = to_awk(deliver(spec))["adl8"]
events = ak.values_astype(events, np.float64)  # four-vector arithmetic in double precision


def leptons_of(prefix, flavour):
    fields = {v: events[f"{prefix}_{v}"] for v in ("pt", "eta", "phi", "mass", "charge")}
    fields["flavour"] = ak.full_like(events[f"{prefix}_charge"], flavour)
    return ak.zip(fields, with_name="Momentum4D")


lep = ak.concatenate([leptons_of("mu", 13), leptons_of("el", 11)], axis=1)
pair_idx = ak.argcombinations(lep, 2, fields=["i1", "i2"])
l1, l2 = lep[pair_idx.i1], lep[pair_idx.i2]
pair_idx = pair_idx[(l1.flavour == l2.flavour) & (l1.charge != l2.charge)]
has_sfos = ak.num(pair_idx) > 0
events, lep, pair_idx = events[has_sfos], lep[has_sfos], pair_idx[has_sfos]

pair_mass = (lep[pair_idx.i1] + lep[pair_idx.i2]).mass
best = ak.firsts(pair_idx[ak.argmin(abs(pair_mass - 91.2), axis=1, keepdims=True)])
index = ak.local_index(lep)
others = lep[(index != best.i1) & (index != best.i2)]
lead = ak.firsts(others[ak.argmax(others.pt, axis=1, keepdims=True)])
mt = np.sqrt(2 * lead.pt * events.met * (1 - np.cos(lead.phi - events.met_phi)))

h = hist.Hist.new.Reg(40, 0, 200, name="mt", label=r"$m_T(\ell, E_T^{miss})$ [GeV]").Double()
h.fill(mt=mt)
print(f"entries: {h.sum()}")

hep.style.use("CMS")
fig, ax = plt.subplots()
h.plot(ax=ax, histtype="fill", label=r"$\geq 3\ell$ with SFOS pair")
ax.set_ylabel("Events")
ax.legend()
# The embedded sample as datasets/catalog.toml describes it: simulation in a CMS-like schema, no
# beam energy or luminosity; so the label gives neither.
hep.label.exp_label(exp="CMS-like", data=False, rlabel="ADL benchmark sample", ax=ax)
fig.tight_layout()  # nothing clipped
plt.savefig("mt_lep_met.png")
