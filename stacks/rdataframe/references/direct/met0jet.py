# vibeplot extra benchmark met-0jet: plot the missing transverse energy of events with no jets
# (the jet collection as stored, no jet pT cut). RDataFrame reads the file directly.
import ROOT

INPUT_FILE = "{{dataset}}"

ROOT.gROOT.SetBatch(True)
# Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this line would use all cores.
df = ROOT.RDataFrame("Events", INPUT_FILE)
df = df.Filter("nJet == 0", "no jets")

h = df.Histo1D(("met_0jet", "Missing transverse energy (no jets);E_{T}^{miss} [GeV];Events", 50, 0, 200), "MET_pt")
print(f"entries: {h.GetEntries():.0f}")

canvas = ROOT.TCanvas("canvas", "", 800, 600)
h.SetFillColor(ROOT.kAzure - 9)
h.Draw("HIST")
canvas.SaveAs("met_0jet.png")
