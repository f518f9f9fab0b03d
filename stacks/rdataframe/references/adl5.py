# ADL benchmark 5: plot MET of events with an opposite-charge muon pair whose invariant
# mass is in [60, 120] GeV (any pair of muons in the event may qualify; no muon pT/eta cut).
# The query keeps events with >= 2 muons; InvariantMasses in RDataFrame gives every pair's mass.
import ROOT
from servicex import Sample, ServiceXSpec, dataset, deliver, query

INPUT_FILE = "{{dataset}}"

sx_query = (
    query.FuncADL_Uproot()
    .FromTree("Events")
    .Where(lambda e: e.Muon_pt.Count() >= 2)
    .Select(lambda e: {"MET_pt": e.MET_pt, "Muon_pt": e.Muon_pt, "Muon_eta": e.Muon_eta, "Muon_phi": e.Muon_phi,
                       "Muon_mass": e.Muon_mass, "Muon_charge": e.Muon_charge})
)
spec = ServiceXSpec(Sample=[Sample(Name="adl5", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1, Query=sx_query)])
files = [str(path) for path in deliver(spec)["adl5"]]  # local paths of the delivered ROOT files

ROOT.gROOT.SetBatch(True)
ROOT.gStyle.SetOptStat(0)  # no statistics box
ROOT.gStyle.SetOptTitle(0)  # the experiment label takes the title's place
ROOT.gStyle.SetPadLeftMargin(0.13)  # room for five-digit y labels
ROOT.gStyle.SetTextFont(42)  # labels in the axis font
# Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this line would use all cores.
df = ROOT.RDataFrame("servicex", files)
df = (
    df.Define("pairs", "Combinations(Muon_pt, 2)")  # all unique muon pairs: index RVecs pairs[0], pairs[1]
    .Define("i1", "pairs[0]")
    .Define("i2", "pairs[1]")
    .Define("pair_mass", "InvariantMasses("
                         "Take(Muon_pt, i1), Take(Muon_eta, i1), Take(Muon_phi, i1), Take(Muon_mass, i1), "
                         "Take(Muon_pt, i2), Take(Muon_eta, i2), Take(Muon_phi, i2), Take(Muon_mass, i2))")
    .Define("pair_os", "Take(Muon_charge, i1) != Take(Muon_charge, i2)")
    .Filter("Any(pair_os && pair_mass >= 60 && pair_mass <= 120)", "OS pair with 60 <= m <= 120 GeV")
)

h = df.Histo1D(("met_zmumu", "Missing transverse energy (OS #mu#mu, 60 #leq m_{#mu#mu} #leq 120 GeV);"
                "E_{T}^{miss} [GeV];Events", 50, 0, 200), "MET_pt")
print(f"entries: {h.GetEntries():.0f}")

canvas = ROOT.TCanvas("canvas", "", 800, 600)
h.SetFillColor(ROOT.kAzure - 9)
h.Draw("HIST")
# The embedded sample as datasets/catalog.toml describes it: simulation in a CMS-like schema, no
# beam energy or luminosity; so the label gives neither.
label = ROOT.TLatex()
label.DrawLatexNDC(0.13, 0.92, "#bf{CMS-like} #it{Simulation}")
label.SetTextAlign(31)  # right-aligned at the frame's right edge
label.DrawLatexNDC(0.90, 0.92, "ADL benchmark sample")
canvas.SaveAs("met_zmumu.png")
