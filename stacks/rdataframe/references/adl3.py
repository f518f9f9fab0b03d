# ADL benchmark 3: plot the pT of jets with |eta| < 1 (all such jets in all events).
# ServiceX delivers jet pT and eta; a mask in RDataFrame selects the central jets.
import ROOT
from servicex import Sample, ServiceXSpec, dataset, deliver, query

INPUT_FILE = "{{dataset}}"

sx_query = query.FuncADL_Uproot().FromTree("Events").Select(lambda e: {"Jet_pt": e.Jet_pt, "Jet_eta": e.Jet_eta})
spec = ServiceXSpec(Sample=[Sample(Name="adl3", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1, Query=sx_query)])
files = [str(path) for path in deliver(spec)["adl3"]]  # local paths of the delivered ROOT files

ROOT.gROOT.SetBatch(True)
# Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this line would use all cores.
df = ROOT.RDataFrame("servicex", files)
df = df.Define("central_jet_pt", "Jet_pt[abs(Jet_eta) < 1]")

h = df.Histo1D(("jet_pt_eta1", "Central jet transverse momentum (|#eta| < 1);Jet p_{T} [GeV];Jets", 60, 0, 300),
               "central_jet_pt")
print(f"entries: {h.GetEntries():.0f}")

canvas = ROOT.TCanvas("canvas", "", 800, 600)
canvas.SetLogy()
h.SetFillColor(ROOT.kAzure - 9)
h.Draw("HIST")
canvas.SaveAs("jet_pt_eta1.png")
