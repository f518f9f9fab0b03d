# ADL benchmark 3: the pT of jets with |eta| < 1. ServiceX delivers jet pT and eta; the cut is applied in awkward.
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
    .Select(lambda e: {"jet_pt": e.Jet_pt, "jet_eta": e.Jet_eta})
)
spec = ServiceXSpec(Sample=[Sample(Name="adl3", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1, Query=jet_query)])
events = to_awk(deliver(spec))["adl3"]
central_pt = events.jet_pt[abs(events.jet_eta) < 1]

h = hist.Hist.new.Reg(60, 0, 300, name="pt", label=r"Jet $p_T$ [GeV]").Double()
h.fill(pt=ak.flatten(central_pt))
print(f"entries: {h.sum()}")

hep.style.use("CMS")
fig, ax = plt.subplots()
h.plot(ax=ax, histtype="fill", label=r"Jets with $|\eta| < 1$")
ax.set_ylabel("Jets")
ax.set_yscale("log")
ax.legend()
# The embedded sample as datasets/catalog.toml describes it: simulation in a CMS-like schema, no
# beam energy or luminosity; so the label gives neither.
hep.label.exp_label(exp="CMS-like", data=False, rlabel="ADL benchmark sample", ax=ax)
fig.tight_layout()  # nothing clipped
plt.savefig("jet_pt_eta1.png")
