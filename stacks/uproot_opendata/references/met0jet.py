# vibeplot extra benchmark met-0jet: plot the missing transverse energy of events with no jets.
import awkward as ak
import hist
import matplotlib.pyplot as plt
import mplhep as hep
import uproot

INPUT_FILE = "{{dataset}}"

with uproot.open(INPUT_FILE) as f:
    events = f["Events"].arrays(["MET_pt", "Jet_pt"])

no_jets = events[ak.num(events.Jet_pt, axis=1) == 0]

h = hist.Hist.new.Reg(50, 0, 200, name="met", label=r"$E_T^{miss}$ [GeV]").Double()
h.fill(met=no_jets.MET_pt)
print(f"entries: {h.sum()}")

hep.style.use("CMS")
fig, ax = plt.subplots()
h.plot(ax=ax, histtype="fill", label="Events with no jets")
ax.set_ylabel("Events")
ax.set_title("Missing transverse energy")
ax.legend()
plt.savefig("met_0jet.png")
