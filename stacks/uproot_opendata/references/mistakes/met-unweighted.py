# Known mistake for met-weighted and met-lumi (not a solution): the histogram is filled unweighted (one entry per event), without genWeight or the normalisation.
# The validator runs this to name the mistake when a candidate's plot matches it.
import hist
import matplotlib.pyplot as plt
import numpy as np
import uproot

INPUT_FILE = "{{dataset}}"

with uproot.open(INPUT_FILE) as f:
    events = f["Events"].arrays(["MET_pt", "genWeight"])

h = hist.Hist.new.Reg(50, 0, 100, name="met", label=r"$E_T^{miss}$ [GeV]").Weight()
h.fill(met=events.MET_pt)
fig, ax = plt.subplots()
h.plot(ax=ax)
plt.savefig("met_lumi.png")
