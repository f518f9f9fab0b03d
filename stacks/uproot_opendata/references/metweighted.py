# Weighted sample: plot the MET of all events in the weighted sample, each event filled with its genWeight.
import hist
import matplotlib.pyplot as plt
import mplhep as hep
import numpy as np
import uproot

INPUT_FILE = "{{dataset}}"

with uproot.open(INPUT_FILE) as f:
    events = f["Events"].arrays(["MET_pt", "genWeight"])

h = hist.Hist.new.Reg(50, 0, 100, name="met", label=r"$E_T^{miss}$ [GeV]").Weight()
h.fill(met=events.MET_pt, weight=np.asarray(events.genWeight, dtype=np.float64))
print(f"sum of weights: {h.sum().value}")

hep.style.use("CMS")
fig, ax = plt.subplots()
h.plot(ax=ax, histtype="fill", label="Weighted events")
ax.set_ylabel(r"Sum of weights / 2 GeV")
ax.legend()
# The embedded weighted sample as datasets/catalog.toml describes it: simulation in a CMS-like schema; weighted
# (genWeight), not normalised, so no luminosity.
hep.label.exp_label(exp="CMS-like", data=False, rlabel="weighted sample", ax=ax)
fig.tight_layout()  # nothing clipped
plt.savefig("met_weighted.png")
