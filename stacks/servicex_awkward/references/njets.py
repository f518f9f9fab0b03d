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
ax.set_title("Jet multiplicity")
ax.legend()
plt.savefig("n_jets.png")
