# vibeplot extra benchmark dr-jj: plot deltaR between the two leading (highest-pT) jets in events
# with at least two jets. The query keeps events with >= 2 jets; deltaR is computed in awkward.
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

jet_query = (
    query.FuncADL_Uproot()
    .FromTree("Events")
    .Where(lambda e: e.Jet_pt.Count() >= 2)
    .Select(lambda e: {"pt": e.Jet_pt, "eta": e.Jet_eta, "phi": e.Jet_phi})
)
spec = ServiceXSpec(Sample=[Sample(Name="dr_jj", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1,
                                   Query=jet_query)])
events = to_awk(deliver(spec))["dr_jj"]
events = ak.values_astype(events, np.float64)  # deltaR in double precision

jets = ak.zip({"pt": events.pt, "eta": events.eta, "phi": events.phi}, with_name="Momentum3D")
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
