# vibeplot extra benchmark ele-pt-20k: plot the pT of electrons with pT > 25 GeV in the first 20000
# events of the file (the first 20000 entries of the tree, before any selection).
# RDataFrame reads the file directly; Range(20000) takes the first 20000 entries.
import ROOT

INPUT_FILE = "{{dataset}}"

ROOT.gROOT.SetBatch(True)
ROOT.gStyle.SetOptStat(0)  # no statistics box
ROOT.gStyle.SetOptTitle(0)  # the experiment label takes the title's place
ROOT.gStyle.SetPadLeftMargin(0.13)  # room for five-digit y labels
ROOT.gStyle.SetTextFont(42)  # labels in the axis font
# Single-threaded: Range() is not supported with ROOT.EnableImplicitMT(), so never call it here.
df = ROOT.RDataFrame("Events", INPUT_FILE)
df = df.Range(20000).Define("good_electron_pt", "Electron_pt[Electron_pt > 25]")  # Range before any Filter

h = df.Histo1D(("electron_pt", "Electron transverse momentum (p_{T} > 25 GeV, first 20000 events);"
                "Electron p_{T} [GeV];Electrons", 50, 25, 275), "good_electron_pt")
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
canvas.SaveAs("electron_pt.png")
