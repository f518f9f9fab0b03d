# ADL benchmark 2: plot the transverse momentum (pT) of all jets in all events.
# RDataFrame reads the file directly; Histo1D of an RVec column fills every element.
import ROOT

INPUT_FILE = "{{dataset}}"

ROOT.gROOT.SetBatch(True)
# Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this line would use all cores.
df = ROOT.RDataFrame("Events", INPUT_FILE)

h = df.Histo1D(("jet_pt", "Jet transverse momentum;Jet p_{T} [GeV];Jets", 60, 0, 300), "Jet_pt")
print(f"entries: {h.GetEntries():.0f}")

canvas = ROOT.TCanvas("canvas", "", 800, 600)
canvas.SetLogy()
h.SetFillColor(ROOT.kAzure - 9)
h.Draw("HIST")
canvas.SaveAs("jet_pt.png")
