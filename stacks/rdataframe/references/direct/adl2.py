# ADL benchmark 2: plot the transverse momentum (pT) of all jets in all events.
# RDataFrame reads the file directly; Histo1D of an RVec column fills every element.
import ROOT

INPUT_FILE = "{{dataset}}"

ROOT.gROOT.SetBatch(True)
ROOT.gStyle.SetOptStat(0)  # no statistics box
ROOT.gStyle.SetOptTitle(0)  # the experiment label takes the title's place
ROOT.gStyle.SetPadLeftMargin(0.13)  # room for five-digit y labels
ROOT.gStyle.SetTextFont(42)  # labels in the axis font
# Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this line would use all cores.
df = ROOT.RDataFrame("Events", INPUT_FILE)

h = df.Histo1D(("jet_pt", "Jet transverse momentum;Jet p_{T} [GeV];Jets", 60, 0, 300), "Jet_pt")
print(f"entries: {h.GetEntries():.0f}")

canvas = ROOT.TCanvas("canvas", "", 800, 600)
canvas.SetLogy()
h.SetFillColor(ROOT.kAzure - 9)
h.Draw("HIST")
# The embedded sample as datasets/catalog.toml describes it: simulation in a CMS-like schema, no
# beam energy or luminosity; so the label gives neither.
label = ROOT.TLatex()
label.DrawLatexNDC(0.13, 0.92, "#bf{CMS-like} #it{Simulation}")
label.SetTextAlign(31)  # right-aligned at the frame's right edge
label.DrawLatexNDC(0.90, 0.92, "ADL benchmark sample")
canvas.SaveAs("jet_pt.png")
