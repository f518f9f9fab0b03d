# ADL benchmark 4: plot MET of events that have at least two jets with pT > 40 GeV.
import awkward as ak
import hist
import matplotlib.pyplot as plt
import mplhep as hep
import uproot

INPUT_FILE = "{{dataset}}"

with uproot.open(INPUT_FILE) as f:
    events = f["Events"].arrays(["MET_pt", "Jet_pt"])

selected = events[ak.sum(events.Jet_pt > 40, axis=1) >= 2]

h = hist.Hist.new.Reg(50, 0, 200, name="met", label=r"$E_T^{miss}$ [GeV]").Double()
h.fill(met=selected.MET_pt)
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
