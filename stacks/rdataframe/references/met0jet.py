# vibeplot extra benchmark met-0jet: plot the missing transverse energy of events with no jets
# (the jet collection as stored, no jet pT cut). The event selection runs in the ServiceX query.
import ROOT
from servicex import Sample, ServiceXSpec, dataset, deliver, query

INPUT_FILE = "{{dataset}}"

sx_query = (
    query.FuncADL_Uproot()
    .FromTree("Events")
    .Where(lambda e: e.Jet_pt.Count() == 0)
    .Select(lambda e: {"MET_pt": e.MET_pt})
)
spec = ServiceXSpec(Sample=[Sample(Name="met0jet", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1, Query=sx_query)])
files = [str(path) for path in deliver(spec)["met0jet"]]  # local paths of the delivered ROOT files

ROOT.gROOT.SetBatch(True)
# Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this line would use all cores.
df = ROOT.RDataFrame("servicex", files)

h = df.Histo1D(("met_0jet", "Missing transverse energy (no jets);E_{T}^{miss} [GeV];Events", 50, 0, 200), "MET_pt")
print(f"entries: {h.GetEntries():.0f}")

canvas = ROOT.TCanvas("canvas", "", 800, 600)
h.SetFillColor(ROOT.kAzure - 9)
h.Draw("HIST")
canvas.SaveAs("met_0jet.png")
