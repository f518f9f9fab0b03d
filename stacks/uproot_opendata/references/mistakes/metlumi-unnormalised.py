# Known mistake for met-lumi (not a solution): filled with genWeight but not normalised (no sigma * filter efficiency * k-factor * L / sum of weights).
# The validator runs this to name the mistake when a candidate's plot matches it.
import hist
import matplotlib.pyplot as plt
import numpy as np
import uproot

INPUT_FILE = "{{dataset}}"

with uproot.open(INPUT_FILE) as f:
    events = f["Events"].arrays(["MET_pt", "genWeight"])

h = hist.Hist.new.Reg(50, 0, 100, name="met", label=r"$E_T^{miss}$ [GeV]").Weight()
h.fill(met=events.MET_pt, weight=np.asarray(events.genWeight, dtype=np.float64))
fig, ax = plt.subplots()
h.plot(ax=ax)
plt.savefig("met_lumi.png")
