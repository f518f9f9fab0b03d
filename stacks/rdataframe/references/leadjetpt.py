# vibeplot extra benchmark lead-jet-pt: plot the pT of the leading (highest-pT) jet in events with
# at least one jet (selected in the ServiceX query); Max, so it holds even if jets were not pT-sorted.
import ROOT
from servicex import Sample, ServiceXSpec, dataset, deliver, query

INPUT_FILE = "{{dataset}}"

sx_query = (
    query.FuncADL_Uproot()
    .FromTree("Events")
    .Where(lambda e: e.Jet_pt.Count() >= 1)
    .Select(lambda e: {"Jet_pt": e.Jet_pt})
)
spec = ServiceXSpec(Sample=[Sample(Name="leadjetpt", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1,
                                   Query=sx_query)])
files = [str(path) for path in deliver(spec)["leadjetpt"]]  # local paths of the delivered ROOT files

ROOT.gROOT.SetBatch(True)
# Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this line would use all cores.
df = ROOT.RDataFrame("servicex", files)
df = df.Define("leading_jet_pt", "Max(Jet_pt)")

h = df.Histo1D(("leading_jet_pt", "Leading jet transverse momentum (#geq 1 jet);Leading jet p_{T} [GeV];Events",
                50, 0, 500), "leading_jet_pt")
print(f"entries: {h.GetEntries():.0f}")

canvas = ROOT.TCanvas("canvas", "", 800, 600)
canvas.SetLogy()
h.SetFillColor(ROOT.kAzure - 9)
h.Draw("HIST")
canvas.SaveAs("leading_jet_pt.png")
