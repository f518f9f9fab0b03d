# ADL benchmark 2: plot the transverse momentum (pT) of all jets in all events.
# ServiceX delivers the jagged jet pT column; Histo1D of an RVec column fills every element.
import ROOT
from servicex import Sample, ServiceXSpec, dataset, deliver, query

INPUT_FILE = "{{dataset}}"

sx_query = query.FuncADL_Uproot().FromTree("Events").Select(lambda e: {"Jet_pt": e.Jet_pt})
spec = ServiceXSpec(Sample=[Sample(Name="adl2", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1, Query=sx_query)])
files = [str(path) for path in deliver(spec)["adl2"]]  # local paths of the delivered ROOT files

ROOT.gROOT.SetBatch(True)
# Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this line would use all cores.
df = ROOT.RDataFrame("servicex", files)

h = df.Histo1D(("jet_pt", "Jet transverse momentum;Jet p_{T} [GeV];Jets", 60, 0, 300), "Jet_pt")
print(f"entries: {h.GetEntries():.0f}")

canvas = ROOT.TCanvas("canvas", "", 800, 600)
canvas.SetLogy()
h.SetFillColor(ROOT.kAzure - 9)
h.Draw("HIST")
canvas.SaveAs("jet_pt.png")
