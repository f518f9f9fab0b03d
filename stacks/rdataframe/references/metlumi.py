# Weighted sample: plot the MET of all events in the weighted sample, normalised to 10 fb^-1.
# ServiceX delivers MET and the generator weight as a ROOT file; RDataFrame histograms them, ROOT draws.
import ROOT
from servicex import Sample, ServiceXSpec, dataset, deliver, query

INPUT_FILE = "{{dataset}}"
# weight = genWeight * sigma[pb] * filter efficiency * k-factor * L[pb^-1] / (sum of genWeight over the
# whole sample), with the catalog's numbers; L = 10 fb^-1 = 10000 pb^-1.
LUMI_PB = 10.0 * 1000.0
SCALE = 2000.0 * 0.9 * 1.1 * LUMI_PB / 17519990.09527588

sx_query = query.FuncADL_Uproot().FromTree("Events").Select(lambda e: {"MET_pt": e.MET_pt, "genWeight": e.genWeight})
spec = ServiceXSpec(Sample=[Sample(Name="metlumi", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1, Query=sx_query)])
files = [str(path) for path in deliver(spec)["metlumi"]]  # local paths of the delivered ROOT files

ROOT.gROOT.SetBatch(True)
ROOT.gStyle.SetOptStat(0)  # no statistics box
ROOT.gStyle.SetOptTitle(0)  # the experiment label takes the title's place
ROOT.gStyle.SetPadLeftMargin(0.13)  # room for five-digit y labels
ROOT.gStyle.SetTextFont(42)  # labels in the axis font
# Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this line would use all cores.
df = ROOT.RDataFrame("servicex", files)
df = df.Define("w", f"genWeight * {SCALE!r}")  # float genWeight promoted to double

h = df.Histo1D(("met", "Missing transverse energy;E_{T}^{miss} [GeV];Events / 2 GeV (10 fb^{-1})", 50, 0, 100), "MET_pt", "w")
print(f"sum of weights: {h.Integral()}")

canvas = ROOT.TCanvas("canvas", "", 800, 600)
h.SetFillColor(ROOT.kAzure - 9)
h.Draw("HIST")
# The embedded weighted sample as datasets/catalog.toml describes it: simulation in a CMS-like schema;
# normalised to the luminosity asked for, which the label states.
label = ROOT.TLatex()
label.DrawLatexNDC(0.13, 0.92, "#bf{CMS-like} #it{Simulation}")
label.SetTextAlign(31)  # right-aligned at the frame's right edge
label.DrawLatexNDC(0.90, 0.92, "10 fb^{-1} (weighted sample)")
canvas.SaveAs("met_lumi.png")
