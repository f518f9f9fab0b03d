# vibeplot extra benchmark ele-pt-20k: plot the pT of electrons with pT > 25 GeV in the first 20000
# events of the file (the first 20000 entries of the tree, before any selection).
import awkward as ak
import hist
import matplotlib.pyplot as plt
import mplhep as hep
import uproot

INPUT_FILE = "{{dataset}}"

with uproot.open(INPUT_FILE) as f:
    events = f["Events"].arrays(["Electron_pt"], entry_stop=20000)

ele_pt = events.Electron_pt[events.Electron_pt > 25]

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
