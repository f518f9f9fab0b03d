# vibeplot extra benchmark n-jets: plot the number of jets in each event (every event, 0 included).
# No event filter: the query counts the jets per event and only that number comes back.
import hist
import matplotlib.pyplot as plt
import mplhep as hep
from servicex import Sample, ServiceXSpec, dataset, deliver, query
from servicex_analysis_utils import to_awk

INPUT_FILE = "{{dataset}}"

njet_query = query.FuncADL_Uproot().FromTree("Events").Select(lambda e: {"n_jets": e.Jet_pt.Count()})
spec = ServiceXSpec(Sample=[Sample(Name="n_jets", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1,
                                   Query=njet_query)])
events = to_awk(deliver(spec))["n_jets"]

h = hist.Hist.new.Reg(16, -0.5, 15.5, name="njet", label="Number of jets").Double()  # one bin per integer
h.fill(njet=events.n_jets)
print(f"entries: {h.sum()}")

hep.style.use("CMS")
fig, ax = plt.subplots()
h.plot(ax=ax, histtype="fill", label="All events")
ax.set_ylabel("Events")
ax.legend()
# The embedded sample as datasets/catalog.toml describes it: simulation in a CMS-like schema, no
# beam energy or luminosity; so the label gives neither.
hep.label.exp_label(exp="CMS-like", data=False, rlabel="ADL benchmark sample", ax=ax)
fig.tight_layout()  # nothing clipped
plt.savefig("n_jets.png")
