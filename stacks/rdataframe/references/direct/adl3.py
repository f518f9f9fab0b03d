# ADL benchmark 3: plot the pT of jets with |eta| < 1 (all such jets in all events).
# RDataFrame reads the file directly; a mask selects the central jets of each event.
import ROOT

INPUT_FILE = "{{dataset}}"

ROOT.gROOT.SetBatch(True)
# Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this line would use all cores.
df = ROOT.RDataFrame("Events", INPUT_FILE)
df = df.Define("central_jet_pt", "Jet_pt[abs(Jet_eta) < 1]")

h = df.Histo1D(("jet_pt_eta1", "Central jet transverse momentum (|#eta| < 1);Jet p_{T} [GeV];Jets", 60, 0, 300),
               "central_jet_pt")
print(f"entries: {h.GetEntries():.0f}")

canvas = ROOT.TCanvas("canvas", "", 800, 600)
canvas.SetLogy()
h.SetFillColor(ROOT.kAzure - 9)
h.Draw("HIST")
canvas.SaveAs("jet_pt_eta1.png")
