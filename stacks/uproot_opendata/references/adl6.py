# ADL benchmark 6: in events with >= 3 jets, take the trijet whose invariant mass is
# closest to 172.5 GeV; plot its pT, and (second plot) the largest b-tag discriminant
# (Jet_btag) among its three jets.
import awkward as ak
import hist
import matplotlib.pyplot as plt
import mplhep as hep
import numpy as np
import uproot
import vector

vector.register_awkward()

INPUT_FILE = "{{dataset}}"

with uproot.open(INPUT_FILE) as f:
    events = f["Events"].arrays(["Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass", "Jet_btag"])
    events = ak.values_astype(events, np.float64)  # four-vector arithmetic in double precision

events = events[ak.num(events.Jet_pt) >= 3]
jets = ak.zip(
    {"pt": events.Jet_pt, "eta": events.Jet_eta, "phi": events.Jet_phi,
     "mass": events.Jet_mass, "btag": events.Jet_btag},
    with_name="Momentum4D",
)
trijets = ak.combinations(jets, 3, fields=["j1", "j2", "j3"])
trijet_p4 = trijets.j1 + trijets.j2 + trijets.j3
best = ak.argmin(abs(trijet_p4.mass - 172.5), axis=1, keepdims=True)
best_pt = ak.flatten(trijet_p4[best].pt)
max_btag = np.maximum(np.maximum(trijets.j1.btag, trijets.j2.btag), trijets.j3.btag)
best_btag = ak.flatten(max_btag[best])

h_pt = hist.Hist.new.Reg(50, 0, 400, name="pt", label=r"Trijet $p_T$ [GeV]").Double()
h_pt.fill(pt=best_pt)
h_btag = hist.Hist.new.Reg(50, 0, 1, name="btag", label="Max b-tag discriminant in trijet").Double()
h_btag.fill(btag=best_btag)
print(f"entries: {h_pt.sum()} (pT), {h_btag.sum()} (b-tag)")

hep.style.use("CMS")
for h, name in [(h_pt, "trijet_pt"), (h_btag, "trijet_maxbtag")]:
    fig, ax = plt.subplots()
    h.plot(ax=ax, histtype="fill", label=r"Trijet with $m_{jjj}$ closest to 172.5 GeV")
    ax.set_ylabel("Events")
    ax.legend()
    # The embedded sample as datasets/catalog.toml describes it: simulation in a CMS-like schema, no
    # beam energy or luminosity; so the label gives neither.
    hep.label.exp_label(exp="CMS-like", data=False, rlabel="ADL benchmark sample", ax=ax)
    fig.tight_layout()  # nothing clipped
    plt.savefig(f"{name}.png")
