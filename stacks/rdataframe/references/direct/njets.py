# vibeplot extra benchmark n-jets: plot the number of jets in each event (every event, 0 included).
# RDataFrame reads the file directly; the jet count is the size of the Jet_pt RVec.
import ROOT

INPUT_FILE = "{{dataset}}"

ROOT.gROOT.SetBatch(True)
ROOT.gStyle.SetOptStat(0)  # no statistics box
ROOT.gStyle.SetOptTitle(0)  # the experiment label takes the title's place
ROOT.gStyle.SetPadLeftMargin(0.13)  # room for five-digit y labels
ROOT.gStyle.SetTextFont(42)  # labels in the axis font
# Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this line would use all cores.
df = ROOT.RDataFrame("Events", INPUT_FILE)
df = df.Define("n_jets", "Jet_pt.size()")

h = df.Histo1D(("n_jets", "Jet multiplicity;Number of jets;Events", 16, -0.5, 15.5), "n_jets")  # one bin per integer
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
canvas.SaveAs("n_jets.png")
