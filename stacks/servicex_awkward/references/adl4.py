# ADL benchmark 4: MET of events with at least two jets with pT > 40 GeV.
# The event selection runs in the ServiceX query; only MET comes back.
import hist
import matplotlib.pyplot as plt
import mplhep as hep
from servicex import Sample, ServiceXSpec, dataset, deliver, query
from servicex_analysis_utils import to_awk

INPUT_FILE = "{{dataset}}"

met_query = (
    query.FuncADL_Uproot()
    .FromTree("Events")
    .Where(lambda e: e.Jet_pt.Where(lambda pt: pt > 40).Count() >= 2)
    .Select(lambda e: {"met": e.MET_pt})
)
spec = ServiceXSpec(Sample=[Sample(Name="adl4", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1, Query=met_query)])
events = to_awk(deliver(spec))["adl4"]

h = hist.Hist.new.Reg(50, 0, 200, name="met", label=r"$E_T^{miss}$ [GeV]").Double()
h.fill(met=events.met)
print(f"entries: {h.sum()}")

hep.style.use("CMS")
fig, ax = plt.subplots()
h.plot(ax=ax, histtype="fill", label=r"$\geq 2$ jets with $p_T > 40$ GeV")
ax.set_ylabel("Events")
ax.legend()
# The embedded sample as datasets/catalog.toml describes it: simulation in a CMS-like schema, no
# beam energy or luminosity; so the label gives neither.
hep.label.exp_label(exp="CMS-like", data=False, rlabel="ADL benchmark sample", ax=ax)
fig.tight_layout()  # nothing clipped
plt.savefig("met_2jets.png")
