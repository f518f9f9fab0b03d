# Several samples: the MET of all events in the toy ttbar MC and the toy Z->mumu MC, stacked, each
# normalised to 10 fb^-1. RDataFrame reads each file directly (no ServiceX); a THStack draws them.
import ROOT

TTBAR_FILE = "{{dataset1}}"  # toy-ttbar-mc
ZMUMU_FILE = "{{dataset2}}"  # toy-zmumu-mc
# weight = genWeight * sigma[pb] * filter efficiency * k-factor * L[pb^-1] / (sum of genWeight over the
# whole sample), with each sample's catalog numbers; L = 10 fb^-1 = 10000 pb^-1.
LUMI_PB = 10.0 * 1000.0
SAMPLES = [  # (file, name, legend, sigma * eff * k, sum of genWeight, colour)
    (TTBAR_FILE, "ttbar", "t#bar{t} (toy MC)", 800.0 * 1.0 * 1.0, 2511.289788722992, ROOT.kAzure - 9),
    (ZMUMU_FILE, "zmumu", "Z#rightarrow#mu#mu (toy MC)", 2000.0 * 0.9 * 1.1, 8697462.135742188, ROOT.kOrange - 3),
]

ROOT.gROOT.SetBatch(True)
ROOT.gStyle.SetOptStat(0)  # no statistics box
ROOT.gStyle.SetOptTitle(0)  # the experiment label takes the title's place
ROOT.gStyle.SetPadLeftMargin(0.13)  # room for five-digit y labels
ROOT.gStyle.SetTextFont(42)  # labels in the axis font

# Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this line would use all cores.
hists = []
for path, name, legend_text, xsec, sum_w, colour in SAMPLES:
    df = ROOT.RDataFrame("Events", path).Define("w", f"genWeight * {xsec * LUMI_PB / sum_w!r}")
    # the component's x title names its sample (the stack's own titles are the ones drawn)
    h = df.Histo1D((name, f"{name};E_{{T}}^{{miss}} [GeV] ({name} MC);Events", 40, 0, 200), "MET_pt", "w")
    print(f"{name}: {h.Integral():.1f} events expected")
    h.SetFillColor(colour)
    h.SetLineColor(colour)
    hists.append((h, legend_text))

stack = ROOT.THStack("stack", ";E_{T}^{miss} [GeV];Events / 5 GeV (10 fb^{-1})")
legend = ROOT.TLegend(0.6, 0.72, 0.88, 0.88)
for h, legend_text in hists:
    stack.Add(h.GetPtr())
for h, legend_text in reversed(hists):  # the top of the stack first
    legend.AddEntry(h.GetPtr(), legend_text, "f")
canvas = ROOT.TCanvas("canvas", "", 800, 600)
stack.Draw("HIST")
legend.Draw()
# The toy simulated samples as datasets/catalog.toml describes them: a CMS-like schema; normalised to the
# luminosity asked for, which the label states.
label = ROOT.TLatex()
label.DrawLatexNDC(0.13, 0.92, "#bf{CMS-like} #it{Simulation}")
label.SetTextAlign(31)  # right-aligned at the frame's right edge
label.DrawLatexNDC(0.90, 0.92, "10 fb^{-1} (toy MC)")
canvas.SaveAs("met_stack.png")
