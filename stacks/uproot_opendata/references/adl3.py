# ADL benchmark 3: plot the pT of jets with |eta| < 1 (all such jets in all events).
import awkward as ak
import hist
import matplotlib.pyplot as plt
import mplhep as hep
import uproot

INPUT_FILE = "{{dataset}}"

with uproot.open(INPUT_FILE) as f:
    events = f["Events"].arrays(["Jet_pt", "Jet_eta"])

central_pt = events.Jet_pt[abs(events.Jet_eta) < 1]

h = hist.Hist.new.Reg(60, 0, 300, name="pt", label=r"Jet $p_T$ [GeV]").Double()
h.fill(pt=ak.flatten(central_pt))
print(f"entries: {h.sum()}")

hep.style.use("CMS")
fig, ax = plt.subplots()
h.plot(ax=ax, histtype="fill", label=r"Jets with $|\eta| < 1$")
ax.set_ylabel("Jets")
ax.set_yscale("log")
ax.legend()
# The embedded sample as datasets/catalog.toml describes it: simulation in a CMS-like schema, no
# beam energy or luminosity; so the label gives neither.
hep.label.exp_label(exp="CMS-like", data=False, rlabel="ADL benchmark sample", ax=ax)
fig.tight_layout()  # nothing clipped
plt.savefig("jet_pt_eta1.png")
