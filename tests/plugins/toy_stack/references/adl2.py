# ADL benchmark 2 in the toy stack: the pT of all jets in all events.
import matplotlib.pyplot as plt
import numpy as np
import uproot

with uproot.open("{{dataset}}") as f:
    jet_pt = np.concatenate(list(f["Events"]["Jet_pt"].array(library="np")))

plt.hist(jet_pt, bins=50, range=(0, 300), histtype="step", label=f"{len(jet_pt)} jets")
plt.xlabel("Jet $p_T$ [GeV]")
plt.ylabel("Jets")
plt.legend()
plt.savefig("jet_pt.png")
