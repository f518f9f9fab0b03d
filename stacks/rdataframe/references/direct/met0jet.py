# vibeplot extra benchmark met-0jet: plot the missing transverse energy of events with no jets
# (the jet collection as stored, no jet pT cut). RDataFrame reads the file directly.
import ROOT

INPUT_FILE = "{{dataset}}"

ROOT.gROOT.SetBatch(True)
ROOT.gStyle.SetOptStat(0)  # no statistics box
ROOT.gStyle.SetOptTitle(0)  # the experiment label takes the title's place
ROOT.gStyle.SetPadLeftMargin(0.13)  # room for five-digit y labels
ROOT.gStyle.SetTextFont(42)  # labels in the axis font
# Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this line would use all cores.
df = ROOT.RDataFrame("Events", INPUT_FILE)
df = df.Filter("nJet == 0", "no jets")

h = df.Histo1D(("met_0jet", "Missing transverse energy (no jets);E_{T}^{miss} [GeV];Events", 50, 0, 200), "MET_pt")
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
canvas.SaveAs("met_0jet.png")
