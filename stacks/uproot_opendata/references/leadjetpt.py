# vibeplot extra benchmark lead-jet-pt: plot the pT of the leading (highest-pT) jet in events with
# at least one jet.
import awkward as ak
import hist
import matplotlib.pyplot as plt
import mplhep as hep
import uproot

INPUT_FILE = "{{dataset}}"

with uproot.open(INPUT_FILE) as f:
    events = f["Events"].arrays(["Jet_pt"])

has_jet = ak.num(events.Jet_pt, axis=1) >= 1
leading_pt = ak.max(events.Jet_pt[has_jet], axis=1)  # max, so it holds even if jets were not pT-sorted

h = hist.Hist.new.Reg(50, 0, 500, name="pt", label=r"Leading jet $p_T$ [GeV]").Double()
h.fill(pt=leading_pt)
print(f"entries: {h.sum()}")

hep.style.use("CMS")
fig, ax = plt.subplots()
h.plot(ax=ax, histtype="fill", label=r"Events with $\geq 1$ jet")
ax.set_ylabel("Events")
ax.set_yscale("log")
ax.legend()
# The embedded sample as datasets/catalog.toml describes it: simulation in a CMS-like schema, no
# beam energy or luminosity; so the label gives neither.
hep.label.exp_label(exp="CMS-like", data=False, rlabel="ADL benchmark sample", ax=ax)
fig.tight_layout()  # nothing clipped
plt.savefig("leading_jet_pt.png")
