# ADL benchmark 8: events with >= 3 light leptons (e, mu; no pT cut) and at least one
# same-flavour opposite-charge (SFOS) pair. Take the SFOS pair with mass closest to 91.2 GeV
# and plot mT = sqrt(2 pT MET (1 - cos dphi)) of MET and the highest-pT lepton not in that pair.
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
    events = f["Events"].arrays(filter_name=["MET_pt", "MET_phi", "Muon_*", "Electron_*"])
    events = ak.values_astype(events, np.float64)  # four-vector arithmetic in double precision


def leptons_of(prefix, flavour):
    fields = {v: events[f"{prefix}_{v}"] for v in ("pt", "eta", "phi", "mass", "charge")}
    fields["flavour"] = ak.full_like(events[f"{prefix}_charge"], flavour)
    return ak.zip(fields, with_name="Momentum4D")


events["lep"] = ak.concatenate([leptons_of("Muon", 13), leptons_of("Electron", 11)], axis=1)
events = events[ak.num(events.lep) >= 3]

pair_idx = ak.argcombinations(events.lep, 2, fields=["i1", "i2"])
l1, l2 = events.lep[pair_idx.i1], events.lep[pair_idx.i2]
pair_idx = pair_idx[(l1.flavour == l2.flavour) & (l1.charge != l2.charge)]
events, pair_idx = events[ak.num(pair_idx) > 0], pair_idx[ak.num(pair_idx) > 0]

pair_mass = (events.lep[pair_idx.i1] + events.lep[pair_idx.i2]).mass
best = ak.firsts(pair_idx[ak.argmin(abs(pair_mass - 91.2), axis=1, keepdims=True)])
index = ak.local_index(events.lep)
others = events.lep[(index != best.i1) & (index != best.i2)]
lead = ak.firsts(others[ak.argmax(others.pt, axis=1, keepdims=True)])
mt = np.sqrt(2 * lead.pt * events.MET_pt * (1 - np.cos(lead.phi - events.MET_phi)))

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
