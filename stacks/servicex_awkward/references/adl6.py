# ADL benchmark 6: in events with >= 3 jets, the trijet whose invariant mass is closest to
# 172.5 GeV: plot its pT, and (second plot) the largest b-tag discriminant among its three jets.
# The query keeps events with >= 3 jets; combinations run in awkward.
import awkward as ak
import hist
import matplotlib.pyplot as plt
import mplhep as hep
import numpy as np
import vector
from servicex import Sample, ServiceXSpec, dataset, deliver, query
from servicex_analysis_utils import to_awk

vector.register_awkward()
INPUT_FILE = "{{dataset}}"

jet_query = (
    query.FuncADL_Uproot()
    .FromTree("Events")
    .Where(lambda e: e.Jet_pt.Count() >= 3)
    .Select(lambda e: {"pt": e.Jet_pt, "eta": e.Jet_eta, "phi": e.Jet_phi, "mass": e.Jet_mass,
                       "btag": e.Jet_btag})
)
spec = ServiceXSpec(Sample=[Sample(Name="adl6", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1, Query=jet_query)])
events = to_awk(deliver(spec))["adl6"]
events = ak.values_astype(events, np.float64)  # four-vector arithmetic in double precision

jets = ak.zip({"pt": events.pt, "eta": events.eta, "phi": events.phi, "mass": events.mass,
               "btag": events.btag}, with_name="Momentum4D")
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
