# ADL benchmark 1 in the toy stack: the missing transverse energy of all events.
import matplotlib.pyplot as plt
import numpy as np
import uproot

with uproot.open("{{dataset}}") as f:
    met = f["Events"]["MET_pt"].array(library="np")

plt.hist(met, bins=50, range=(0, 200), histtype="step", label=f"{len(met)} events")
plt.xlabel("Missing transverse energy [GeV]")
plt.ylabel("Events")
plt.legend()
plt.savefig("met.png")
print(f"mean MET: {np.mean(met):.2f} GeV")
