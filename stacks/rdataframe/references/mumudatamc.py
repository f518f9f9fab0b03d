# Several samples: the dimuon mass (events with exactly two muons, of opposite charge) in the toy data
# and the toy Z->mumu MC, the MC normalised to the data's luminosity. One deliver call with one Sample per
# dataset (events with two muons); RDataFrame on each sample's files; ROOT draws the MC filled, the data as points.
import ROOT
from servicex import Sample, ServiceXSpec, dataset, deliver, query

DATA_FILE = "{{dataset1}}"  # toy-dimuon-data: 5 pb^-1, no weights
MC_FILE = "{{dataset2}}"  # toy-zmumu-mc: genWeight
# MC weight = genWeight * sigma[pb] * filter efficiency * k-factor * L[pb^-1] / (sum of genWeight over the
# whole sample), with the catalog's numbers; L = the data's 5 pb^-1.
LUMI_PB = 5.0
SCALE = 2000.0 * 0.9 * 1.1 * LUMI_PB / 8697462.135742188

events_2mu = query.FuncADL_Uproot().FromTree("Events").Where(lambda e: e.Muon_pt.Count() == 2)
data_query = events_2mu.Select(lambda e: {"Muon_pt": e.Muon_pt, "Muon_eta": e.Muon_eta, "Muon_phi": e.Muon_phi,
                                          "Muon_mass": e.Muon_mass, "Muon_charge": e.Muon_charge})
mc_query = events_2mu.Select(lambda e: {"Muon_pt": e.Muon_pt, "Muon_eta": e.Muon_eta, "Muon_phi": e.Muon_phi,
                                        "Muon_mass": e.Muon_mass, "Muon_charge": e.Muon_charge,
                                        "genWeight": e.genWeight})
spec = ServiceXSpec(Sample=[
    Sample(Name="data", Dataset=dataset.FileList([DATA_FILE]), NFiles=1, Query=data_query),
    Sample(Name="zmumu", Dataset=dataset.FileList([MC_FILE]), NFiles=1, Query=mc_query),
])
delivered = deliver(spec)
files = {name: [str(path) for path in paths] for name, paths in delivered.items()}  # local paths per sample

ROOT.gROOT.SetBatch(True)
ROOT.gStyle.SetOptStat(0)  # no statistics box
ROOT.gStyle.SetOptTitle(0)  # the experiment label takes the title's place
ROOT.gStyle.SetPadLeftMargin(0.13)  # room for five-digit y labels
ROOT.gStyle.SetTextFont(42)  # labels in the axis font
ROOT.gInterpreter.Declare("""
// Invariant mass of the two muons, four-vectors summed in double precision.
double pair_mass(const ROOT::RVecF &pt, const ROOT::RVecF &eta, const ROOT::RVecF &phi, const ROOT::RVecF &mass)
{
   return (ROOT::Math::PtEtaPhiMVector(pt[0], eta[0], phi[0], mass[0]) +
           ROOT::Math::PtEtaPhiMVector(pt[1], eta[1], phi[1], mass[1])).M();
}
""")


def dimuons(paths):
    """Events with exactly two opposite-charge muons, with their mass."""
    # Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this would use all cores.
    return (ROOT.RDataFrame("servicex", paths)
            .Filter("Muon_pt.size() == 2 && Muon_charge[0] != Muon_charge[1]", "two opposite-charge muons")
            .Define("mass", "pair_mass(Muon_pt, Muon_eta, Muon_phi, Muon_mass)"))


h_data = dimuons(files["data"]).Histo1D(("data", "Data;m_{#mu#mu} [GeV];Events / 2 GeV", 30, 60, 120), "mass")
h_mc = (dimuons(files["zmumu"]).Define("w", f"genWeight * {SCALE!r}")  # float genWeight promoted to double
        .Histo1D(("zmumu", "Z->mumu MC;m_{#mu#mu} [GeV] (Z->mumu MC);Events / 2 GeV", 30, 60, 120), "mass", "w"))
print(f"data: {h_data.Integral():.0f} events; MC: {h_mc.Integral():.1f} expected")

canvas = ROOT.TCanvas("canvas", "", 800, 600)
h_mc.SetFillColor(ROOT.kAzure - 9)
h_mc.SetLineColor(ROOT.kAzure - 9)
h_data.SetMarkerStyle(20)
h_data.SetMaximum(1.15 * max(h_data.GetMaximum(), h_mc.GetMaximum()))
h_data.Draw("E1")
h_mc.Draw("HIST SAME")
h_data.Draw("E1 SAME")  # the points on top
legend = ROOT.TLegend(0.62, 0.72, 0.88, 0.88)
legend.AddEntry(h_data.GetPtr(), "Data (toy)", "lep")
legend.AddEntry(h_mc.GetPtr(), "Z#rightarrow#mu#mu (toy MC)", "f")
legend.Draw()
# The toy samples as datasets/catalog.toml describes them: pseudo-data of 5 pb^-1 in a CMS-like schema.
label = ROOT.TLatex()
label.DrawLatexNDC(0.13, 0.92, "#bf{CMS-like}")
label.SetTextAlign(31)  # right-aligned at the frame's right edge
label.DrawLatexNDC(0.90, 0.92, "5 pb^{-1} (toy data)")
canvas.SaveAs("mumu_data_mc.png")
