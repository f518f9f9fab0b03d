# Several samples: the MET of all events in the toy ttbar MC and the toy Z->mumu MC, stacked, each
# normalised to 10 fb^-1. One deliver call with one Sample per dataset; hist + mplhep draw the stack.
import hist
import matplotlib.pyplot as plt
import mplhep as hep
import numpy as np
from servicex import Sample, ServiceXSpec, dataset, deliver, query
from servicex_analysis_utils import to_awk

TTBAR_FILE = "{{dataset1}}"  # toy-ttbar-mc
ZMUMU_FILE = "{{dataset2}}"  # toy-zmumu-mc
# weight = genWeight * sigma[pb] * filter efficiency * k-factor * L[pb^-1] / (sum of genWeight over the
# whole sample), with each sample's catalog numbers; L = 10 fb^-1 = 10000 pb^-1.
LUMI_PB = 10.0 * 1000.0
SAMPLES = [  # (Sample name, file, legend, label of the histogram, sigma * eff * k, sum of genWeight)
    ("ttbar", TTBAR_FILE, r"$t\bar{t}$ (toy MC)", "ttbar MC", 800.0 * 1.0 * 1.0, 2511.289788722992),
    ("zmumu", ZMUMU_FILE, r"$Z\to\mu\mu$ (toy MC)", "Z->mumu MC", 2000.0 * 0.9 * 1.1, 8697462.135742188),
]

met_query = query.FuncADL_Uproot().FromTree("Events").Select(lambda e: {"met": e.MET_pt, "w": e.genWeight})
spec = ServiceXSpec(Sample=[Sample(Name=name, Dataset=dataset.FileList([path]), NFiles=1, Query=met_query)
                            for name, path, *_ in SAMPLES])
delivered = to_awk(deliver(spec))

stack, legends = [], []
for name, _path, legend, label, xsec, sum_w in SAMPLES:
    events = delivered[name]
    h = hist.Hist.new.Reg(40, 0, 200, name="met", label=r"$E_T^{miss}$ [GeV]").Weight(label=label)
    h.fill(met=events.met, weight=np.asarray(events.w, dtype=np.float64) * (xsec * LUMI_PB / sum_w))
    print(f"{label}: {h.sum().value:.1f} events expected")
    stack.append(h)
    legends.append(legend)

hep.style.use("CMS")
fig, ax = plt.subplots()
hep.histplot(stack, ax=ax, stack=True, histtype="fill", label=legends)
ax.set_ylabel(r"Events / 5 GeV (10 fb$^{-1}$)")
ax.legend()
# The toy simulated samples as datasets/catalog.toml describes them: a CMS-like schema; normalised to the
# luminosity asked for, which the label states.
hep.label.exp_label(exp="CMS-like", data=False, rlabel="10 fb$^{-1}$ (toy MC)", ax=ax)
fig.tight_layout()  # nothing clipped
plt.savefig("met_stack.png")
