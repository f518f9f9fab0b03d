# vibeplot extra benchmark ss-mumu: plot the invariant mass of every same-charge muon pair
# (one entry per pair, all events, no muon pT/eta cut). RDataFrame reads the file directly;
# Histo1D of the RVec of pair masses fills one entry per pair.
import ROOT

INPUT_FILE = "{{dataset}}"

ROOT.gROOT.SetBatch(True)
ROOT.gStyle.SetOptStat(0)  # no statistics box
ROOT.gStyle.SetOptTitle(0)  # the experiment label takes the title's place
ROOT.gStyle.SetPadLeftMargin(0.13)  # room for five-digit y labels
ROOT.gStyle.SetTextFont(42)  # labels in the axis font
ROOT.gInterpreter.Declare("""
// Invariant mass of every same-charge muon pair (all unique pairs), four-vectors summed in double precision.
ROOT::RVecD same_charge_masses(const ROOT::RVecF &pt, const ROOT::RVecF &eta, const ROOT::RVecF &phi,
                               const ROOT::RVecF &mass, const ROOT::RVecI &charge)
{
   ROOT::RVecD masses;
   for (std::size_t i = 0; i < pt.size(); ++i) {
      for (std::size_t j = i + 1; j < pt.size(); ++j) {
         if (charge[i] != charge[j]) continue;
         const auto p4 = ROOT::Math::PtEtaPhiMVector(pt[i], eta[i], phi[i], mass[i]) +
                         ROOT::Math::PtEtaPhiMVector(pt[j], eta[j], phi[j], mass[j]);
         masses.push_back(p4.M());
      }
   }
   return masses;
}
""")

# Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this line would use all cores.
df = ROOT.RDataFrame("Events", INPUT_FILE)
df = (
    df.Filter("nMuon >= 2", ">= 2 muons")
    .Define("ss_mass", "same_charge_masses(Muon_pt, Muon_eta, Muon_phi, Muon_mass, Muon_charge)")
)

h = df.Histo1D(("ss_mumu_mass", "Same-charge dimuon invariant mass;m_{#mu#mu} (same charge) [GeV];Pairs", 50, 0, 300),
               "ss_mass")
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
canvas.SaveAs("ss_mumu_mass.png")
