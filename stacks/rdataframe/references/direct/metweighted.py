# Weighted sample: plot the MET of all events in the weighted sample, each event filled with its genWeight.
# RDataFrame reads the file directly (no ServiceX); ROOT draws the histogram.
import ROOT

INPUT_FILE = "{{dataset}}"

ROOT.gROOT.SetBatch(True)
ROOT.gStyle.SetOptStat(0)  # no statistics box
ROOT.gStyle.SetOptTitle(0)  # the experiment label takes the title's place
ROOT.gStyle.SetPadLeftMargin(0.13)  # room for five-digit y labels
ROOT.gStyle.SetTextFont(42)  # labels in the axis font
# Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this line would use all cores.
df = ROOT.RDataFrame("Events", INPUT_FILE)
df = df.Define("w", "genWeight")  # float genWeight promoted to double

h = df.Histo1D(("met", "Missing transverse energy;E_{T}^{miss} [GeV];Sum of weights / 2 GeV", 50, 0, 100), "MET_pt", "w")
print(f"sum of weights: {h.Integral()}")

canvas = ROOT.TCanvas("canvas", "", 800, 600)
h.SetFillColor(ROOT.kAzure - 9)
h.Draw("HIST")
# The embedded weighted sample as datasets/catalog.toml describes it: simulation in a CMS-like schema; weighted
# (genWeight), not normalised, so no luminosity.
label = ROOT.TLatex()
label.DrawLatexNDC(0.13, 0.92, "#bf{CMS-like} #it{Simulation}")
label.SetTextAlign(31)  # right-aligned at the frame's right edge
label.DrawLatexNDC(0.90, 0.92, "weighted sample")
canvas.SaveAs("met_weighted.png")
