# vibeplot extra benchmark n-jets: plot the number of jets in each event (every event, 0 included).
import awkward as ak
import hist
import matplotlib.pyplot as plt
import mplhep as hep
import uproot

INPUT_FILE = "{{dataset}}"

with uproot.open(INPUT_FILE) as f:
    events = f["Events"].arrays(["Jet_pt"])

n_jets = ak.num(events.Jet_pt, axis=1)

h = hist.Hist.new.Reg(16, -0.5, 15.5, name="njet", label="Number of jets").Double()  # one bin per integer
h.fill(njet=n_jets)
print(f"entries: {h.sum()}")

hep.style.use("CMS")
fig, ax = plt.subplots()
h.plot(ax=ax, histtype="fill", label="All events")
ax.set_ylabel("Events")
ax.set_title("Jet multiplicity")
ax.legend()
plt.savefig("n_jets.png")
