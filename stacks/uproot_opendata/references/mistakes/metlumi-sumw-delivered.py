# Known mistake for met-lumi (not a solution): normalised with the sum of genWeight over the events read
# (the delivered file) instead of the catalog's sum over the whole sample.
# The validator runs this to name the mistake when a candidate's plot matches it.
import hist
import matplotlib.pyplot as plt
import numpy as np
import uproot

INPUT_FILE = "{{dataset}}"

with uproot.open(INPUT_FILE) as f:
    events = f["Events"].arrays(["MET_pt", "genWeight"])

w = np.asarray(events.genWeight, dtype=np.float64)
scale = 2000.0 * 0.9 * 1.1 * 10.0 * 1000.0 / np.sum(w)  # the mistake: Σw of what was read
h = hist.Hist.new.Reg(50, 0, 100, name="met", label=r"$E_T^{miss}$ [GeV]").Weight()
h.fill(met=events.MET_pt, weight=w * scale)
fig, ax = plt.subplots()
h.plot(ax=ax)
plt.savefig("met_lumi.png")
