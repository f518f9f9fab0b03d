# vibeplot extra benchmark n-jets: plot the number of jets in each event (every event, 0 included).
# RDataFrame reads the file directly; the jet count is the size of the Jet_pt RVec.
import ROOT

INPUT_FILE = "{{dataset}}"

ROOT.gROOT.SetBatch(True)
# Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this line would use all cores.
df = ROOT.RDataFrame("Events", INPUT_FILE)
df = df.Define("n_jets", "Jet_pt.size()")

h = df.Histo1D(("n_jets", "Jet multiplicity;Number of jets;Events", 16, -0.5, 15.5), "n_jets")  # one bin per integer
print(f"entries: {h.GetEntries():.0f}")

canvas = ROOT.TCanvas("canvas", "", 800, 600)
h.SetFillColor(ROOT.kAzure - 9)
h.Draw("HIST")
canvas.SaveAs("n_jets.png")
