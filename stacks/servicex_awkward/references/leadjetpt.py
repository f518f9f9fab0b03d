# vibeplot extra benchmark lead-jet-pt: plot the pT of the leading (highest-pT) jet in events with
# at least one jet. The query keeps events with >= 1 jet; the leading jet is found in awkward.
import awkward as ak
import hist
import matplotlib.pyplot as plt
import mplhep as hep
from servicex import Sample, ServiceXSpec, dataset, deliver, query
from servicex_analysis_utils import to_awk

INPUT_FILE = "{{dataset}}"

jet_query = (
    query.FuncADL_Uproot()
    .FromTree("Events")
    .Where(lambda e: e.Jet_pt.Count() >= 1)
    .Select(lambda e: {"jet_pt": e.Jet_pt})
)
spec = ServiceXSpec(Sample=[Sample(Name="lead_jet_pt", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1,
                                   Query=jet_query)])
events = to_awk(deliver(spec))["lead_jet_pt"]
leading_pt = ak.max(events.jet_pt, axis=1)  # max, so it holds even if jets were not pT-sorted

h = hist.Hist.new.Reg(50, 0, 500, name="pt", label=r"Leading jet $p_T$ [GeV]").Double()
h.fill(pt=leading_pt)
print(f"entries: {h.sum()}")

hep.style.use("CMS")
fig, ax = plt.subplots()
h.plot(ax=ax, histtype="fill", label=r"Events with $\geq 1$ jet")
ax.set_ylabel("Events")
ax.set_yscale("log")
ax.legend()
# The embedded sample as datasets/catalog.toml describes it: simulation in a CMS-like schema, no
# beam energy or luminosity; so the label gives neither.
hep.label.exp_label(exp="CMS-like", data=False, rlabel="ADL benchmark sample", ax=ax)
fig.tight_layout()  # nothing clipped
plt.savefig("leading_jet_pt.png")
