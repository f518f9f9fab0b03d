# vibeplot extra benchmark ele-pt-20k: plot the pT of electrons with pT > 25 GeV in the first 20000
# events of the file (the first 20000 entries of the tree, before any selection).
# A FuncADL_Uproot query cannot stop after N entries, so the query has no Where: with one file it
# returns one row per event, in file order. The first 20000 events and the pT > 25 GeV cut are then
# taken in awkward (an electron cut in the query would be fine, an event filter would not).
import awkward as ak
import hist
import matplotlib.pyplot as plt
import mplhep as hep
from servicex import Sample, ServiceXSpec, dataset, deliver, query
from servicex_analysis_utils import to_awk

INPUT_FILE = "{{dataset}}"

ele_query = query.FuncADL_Uproot().FromTree("Events").Select(lambda e: {"ele_pt": e.Electron_pt})
spec = ServiceXSpec(Sample=[Sample(Name="ele_pt_20k", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1,
                                   Query=ele_query)])
events = to_awk(deliver(spec))["ele_pt_20k"]
events = events[:20000]  # the first 20000 events, before any selection
ele_pt = events.ele_pt[events.ele_pt > 25]

h = hist.Hist.new.Reg(50, 25, 275, name="pt", label=r"Electron $p_T$ [GeV]").Double()
h.fill(pt=ak.flatten(ele_pt))
print(f"entries: {h.sum()}")

hep.style.use("CMS")
fig, ax = plt.subplots()
h.plot(ax=ax, histtype="fill", label=r"Electrons, $p_T > 25$ GeV, first 20000 events")
ax.set_ylabel("Electrons")
ax.set_yscale("log")
ax.legend()
# The embedded sample as datasets/catalog.toml describes it: simulation in a CMS-like schema, no
# beam energy or luminosity; so the label gives neither.
hep.label.exp_label(exp="CMS-like", data=False, rlabel="ADL benchmark sample", ax=ax)
fig.tight_layout()  # nothing clipped
plt.savefig("electron_pt.png")
