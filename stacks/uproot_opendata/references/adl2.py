# ADL benchmark 2: plot the transverse momentum (pT) of all jets in all events.
import awkward as ak
import hist
import matplotlib.pyplot as plt
import mplhep as hep
import uproot

INPUT_FILE = "{{dataset}}"

with uproot.open(INPUT_FILE) as f:
    events = f["Events"].arrays(["Jet_pt"])

h = hist.Hist.new.Reg(60, 0, 300, name="pt", label=r"Jet $p_T$ [GeV]").Double()
h.fill(pt=ak.flatten(events.Jet_pt))
print(f"entries: {h.sum()}")

hep.style.use("CMS")
fig, ax = plt.subplots()
h.plot(ax=ax, histtype="fill", label="All jets")
ax.set_ylabel("Jets")
ax.set_yscale("log")
ax.legend()
# The embedded sample as datasets/catalog.toml describes it: simulation in a CMS-like schema, no
# beam energy or luminosity; so the label gives neither.
hep.label.exp_label(exp="CMS-like", data=False, rlabel="ADL benchmark sample", ax=ax)
fig.tight_layout()  # nothing clipped
plt.savefig("jet_pt.png")
