# ADL benchmark 1: plot the missing transverse energy (MET_pt) of all events.
# ServiceX delivers the one column as a ROOT file; RDataFrame histograms it, ROOT draws.
import ROOT
from servicex import Sample, ServiceXSpec, dataset, deliver, query

INPUT_FILE = "{{dataset}}"

sx_query = query.FuncADL_Uproot().FromTree("Events").Select(lambda e: {"MET_pt": e.MET_pt})
spec = ServiceXSpec(Sample=[Sample(Name="adl1", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1, Query=sx_query)])
files = [str(path) for path in deliver(spec)["adl1"]]  # local paths of the delivered ROOT files

ROOT.gROOT.SetBatch(True)
ROOT.gStyle.SetOptStat(0)  # no statistics box
ROOT.gStyle.SetOptTitle(0)  # the experiment label takes the title's place
ROOT.gStyle.SetPadLeftMargin(0.13)  # room for five-digit y labels
ROOT.gStyle.SetTextFont(42)  # labels in the axis font
# Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this line would use all cores.
df = ROOT.RDataFrame("servicex", files)

h = df.Histo1D(("met", "Missing transverse energy;E_{T}^{miss} [GeV];Events", 50, 0, 200), "MET_pt")
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
canvas.SaveAs("met.png")
