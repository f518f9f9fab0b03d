# ADL benchmark 1: plot the missing transverse energy (MET_pt) of all events.
import hist
import matplotlib.pyplot as plt
import mplhep as hep
import uproot

INPUT_FILE = "{{dataset}}"

with uproot.open(INPUT_FILE) as f:
    events = f["Events"].arrays(["MET_pt"])

h = hist.Hist.new.Reg(50, 0, 200, name="met", label=r"$E_T^{miss}$ [GeV]").Double()
h.fill(met=events.MET_pt)
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
plt.savefig("met.png")
