# Weighted sample: plot the MET of all events in the weighted sample, normalised to 10 fb^-1.
# ServiceX delivers MET and the generator weight; hist + mplhep draw them.
import hist
import matplotlib.pyplot as plt
import mplhep as hep
import numpy as np
from servicex import Sample, ServiceXSpec, dataset, deliver, query
from servicex_analysis_utils import to_awk

INPUT_FILE = "{{dataset}}"
# weight = genWeight * sigma[pb] * filter efficiency * k-factor * L[pb^-1] / (sum of genWeight over the
# whole sample), with the catalog's numbers; L = 10 fb^-1 = 10000 pb^-1.
LUMI_PB = 10.0 * 1000.0
SCALE = 2000.0 * 0.9 * 1.1 * LUMI_PB / 17519990.09527588

met_query = query.FuncADL_Uproot().FromTree("Events").Select(lambda e: {"met": e.MET_pt, "w": e.genWeight})
spec = ServiceXSpec(Sample=[Sample(Name="metlumi", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1, Query=met_query)])
events = to_awk(deliver(spec))["metlumi"]

h = hist.Hist.new.Reg(50, 0, 100, name="met", label=r"$E_T^{miss}$ [GeV]").Weight()
h.fill(met=events.met, weight=np.asarray(events.w, dtype=np.float64) * SCALE)
print(f"sum of weights: {h.sum().value}")

hep.style.use("CMS")
fig, ax = plt.subplots()
h.plot(ax=ax, histtype="fill", label="Z->ll (toy)")
ax.set_ylabel(r"Events / 2 GeV (10 fb$^{-1}$)")
ax.legend()
# The embedded weighted sample as datasets/catalog.toml describes it: simulation in a CMS-like schema;
# normalised to the luminosity asked for, which the label states.
hep.label.exp_label(exp="CMS-like", data=False, rlabel="10 fb$^{-1}$ (weighted sample)", ax=ax)
fig.tight_layout()  # nothing clipped
plt.savefig("met_lumi.png")
