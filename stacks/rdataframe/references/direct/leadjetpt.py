# vibeplot extra benchmark lead-jet-pt: plot the pT of the leading (highest-pT) jet in events with
# at least one jet. RDataFrame reads the file directly; Max, so it holds even if jets were not pT-sorted.
import ROOT

INPUT_FILE = "{{dataset}}"

ROOT.gROOT.SetBatch(True)
# Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this line would use all cores.
df = ROOT.RDataFrame("Events", INPUT_FILE)
df = df.Filter("nJet >= 1", ">= 1 jet").Define("leading_jet_pt", "Max(Jet_pt)")

h = df.Histo1D(("leading_jet_pt", "Leading jet transverse momentum (#geq 1 jet);Leading jet p_{T} [GeV];Events",
                50, 0, 500), "leading_jet_pt")
print(f"entries: {h.GetEntries():.0f}")

canvas = ROOT.TCanvas("canvas", "", 800, 600)
canvas.SetLogy()
h.SetFillColor(ROOT.kAzure - 9)
h.Draw("HIST")
canvas.SaveAs("leading_jet_pt.png")
