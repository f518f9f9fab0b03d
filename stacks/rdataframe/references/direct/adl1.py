# ADL benchmark 1: plot the missing transverse energy (MET_pt) of all events.
# RDataFrame reads the file directly (no ServiceX); ROOT draws the histogram.
import ROOT

INPUT_FILE = "{{dataset}}"

ROOT.gROOT.SetBatch(True)
# Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this line would use all cores.
df = ROOT.RDataFrame("Events", INPUT_FILE)

h = df.Histo1D(("met", "Missing transverse energy;E_{T}^{miss} [GeV];Events", 50, 0, 200), "MET_pt")
print(f"entries: {h.GetEntries():.0f}")

canvas = ROOT.TCanvas("canvas", "", 800, 600)
h.SetFillColor(ROOT.kAzure - 9)
h.Draw("HIST")
canvas.SaveAs("met.png")
