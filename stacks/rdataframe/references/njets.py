# vibeplot extra benchmark n-jets: plot the number of jets in each event (every event, 0 included).
# The ServiceX query counts the jets of every event (no Where, so events without jets come back as 0).
import ROOT
from servicex import Sample, ServiceXSpec, dataset, deliver, query

INPUT_FILE = "{{dataset}}"

sx_query = query.FuncADL_Uproot().FromTree("Events").Select(lambda e: {"n_jets": e.Jet_pt.Count()})
spec = ServiceXSpec(Sample=[Sample(Name="njets", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1, Query=sx_query)])
files = [str(path) for path in deliver(spec)["njets"]]  # local paths of the delivered ROOT files

ROOT.gROOT.SetBatch(True)
# Single-threaded for reproducible output; ROOT.EnableImplicitMT() before this line would use all cores.
df = ROOT.RDataFrame("servicex", files)

h = df.Histo1D(("n_jets", "Jet multiplicity;Number of jets;Events", 16, -0.5, 15.5), "n_jets")  # one bin per integer
print(f"entries: {h.GetEntries():.0f}")

canvas = ROOT.TCanvas("canvas", "", 800, 600)
h.SetFillColor(ROOT.kAzure - 9)
h.Draw("HIST")
canvas.SaveAs("n_jets.png")
