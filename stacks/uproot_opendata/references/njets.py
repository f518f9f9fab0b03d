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
ax.legend()
# The embedded sample as datasets/catalog.toml describes it: simulation in a CMS-like schema, no
# beam energy or luminosity; so the label gives neither.
hep.label.exp_label(exp="CMS-like", data=False, rlabel="ADL benchmark sample", ax=ax)
fig.tight_layout()  # nothing clipped
plt.savefig("n_jets.png")
