# Weighted sample: plot the MET of all events in the weighted sample, each event filled with its genWeight.
# ServiceX delivers MET and the generator weight; hist + mplhep draw them.
import hist
import matplotlib.pyplot as plt
import mplhep as hep
import numpy as np
from servicex import Sample, ServiceXSpec, dataset, deliver, query
from servicex_analysis_utils import to_awk

INPUT_FILE = "{{dataset}}"

met_query = query.FuncADL_Uproot().FromTree("Events").Select(lambda e: {"met": e.MET_pt, "w": e.genWeight})
spec = ServiceXSpec(Sample=[Sample(Name="metweighted", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1, Query=met_query)])
events = to_awk(deliver(spec))["metweighted"]

h = hist.Hist.new.Reg(50, 0, 100, name="met", label=r"$E_T^{miss}$ [GeV]").Weight()
h.fill(met=events.met, weight=np.asarray(events.w, dtype=np.float64))
print(f"sum of weights: {h.sum().value}")

hep.style.use("CMS")
fig, ax = plt.subplots()
h.plot(ax=ax, histtype="fill", label="Weighted events")
ax.set_ylabel(r"Sum of weights / 2 GeV")
ax.legend()
# The embedded weighted sample as datasets/catalog.toml describes it: simulation in a CMS-like schema; weighted
# (genWeight), not normalised, so no luminosity.
hep.label.exp_label(exp="CMS-like", data=False, rlabel="weighted sample", ax=ax)
fig.tight_layout()  # nothing clipped
plt.savefig("met_weighted.png")
