"""The rdataframe stack: policies, cling explainers, prompt assembly per mode, ROOT checks, fix loop."""

from __future__ import annotations

import textwrap

import pytest

from vibeplot.core import plugins, policies

from vibeplot.core.ask import prompt
from vibeplot.core.resolver import from_path
from vibeplot.core.errors import ConfigError
from vibeplot.core.stack import Failure

ROOT_OK = pytest.importorskip("ROOT", reason="the rdataframe extra is not installed") is not None

GOOD = textwrap.dedent('''
    import ROOT
    ROOT.gROOT.SetBatch(True)
    df = ROOT.RDataFrame("Events", "f.root")
    h = df.Histo1D(("met", ";MET [GeV];Events", 50, 0, 200), "MET_pt")
    c = ROOT.TCanvas()
    h.Draw("HIST")
    c.SaveAs("met.png")
''')


@pytest.fixture(scope="module")
def stack():
    return plugins.get_stack("rdataframe")


def test_good_script_passes(stack):
    assert policies.check(GOOD, stack.policies) == []


@pytest.mark.parametrize("change, expected", [
    (("ROOT.gROOT.SetBatch(True)\n", ""), "SetBatch"),
    (('c.SaveAs("met.png")', 'c.SaveAs("met.pdf")'), "PNG"),
    (("h.Draw", "b = ROOT.TBrowser()\nh.Draw"), "TBrowser"),
    (("import ROOT\n", "import ROOT\nimport subprocess\n"), "subprocess"),
])
def test_policy_violations(stack, change, expected):
    problems = policies.check(GOOD.replace(*change), stack.policies)
    assert any(expected in p for p in problems), problems


def test_nfiles_only_when_servicex_is_used(stack):
    sx = GOOD.replace("df = ", "from servicex import deliver, Sample\nfiles = deliver(spec := Sample(Name='x'))\ndf = ")
    assert any("NFiles=1" in p for p in policies.check(sx, stack.policies))


@pytest.mark.parametrize("stderr, expected", [
    ("input_line_35:1:16: error: unknown type name 'RVecF'", "ROOT::RVecF"),
    ("input_line_60:2:27: error: use of undeclared identifier 'Jet_ptt'", "'Jet_ptt' is not declared"),
    ('runtime_error: Unknown column: "MET_ptt"', "'MET_ptt' does not exist"),
    ('invalid_argument: RDataFrame: cannot find dataset "servicex" in file "/tmp/x.root".', "`servicex`"),
    ("error: no matching function for call to 'pick'", "ROOT::RVecF"),
])
def test_cling_explainers(stack, stderr, expected):
    assert any(expected in a for a in stack.explain(Failure("", "", stderr, 1))), stack.explain(Failure("", "", stderr, 1))


def test_bricks_follow_the_mode(stack, sample):
    from vibeplot.datasets import embedded

    via_servicex = prompt.first_prompt(stack, embedded.dataset(), "Plot MET").text
    assert "ServiceX delivering ROOT files" in via_servicex and "FuncADL_Uproot" in via_servicex
    direct = prompt.first_prompt(stack, from_path(str(sample)), "Plot MET").text
    assert "ServiceX delivering" not in direct and "FuncADL" not in direct and f'ROOT.RDataFrame("Events", "{sample}")' in direct


def test_missing_root_is_one_clear_message(stack, monkeypatch, sample):
    from vibeplot.stacks.rdataframe import runner

    monkeypatch.setattr(runner, "root_problem", lambda: "ROOT is not installed")
    with pytest.raises(ConfigError) as err:
        stack.check_dataset(from_path(str(sample)))
    assert "vibeplot[rdataframe]" in err.value.hint
    monkeypatch.setattr(runner, "root_problem", lambda: "cling cannot find the C++ standard headers")
    with pytest.raises(ConfigError) as err:
        stack.check_dataset(from_path(str(sample)))
    assert "g++" in err.value.hint


def test_root_probe_passes_here():
    from vibeplot.stacks.rdataframe import runner

    assert runner.root_problem() is None


CLING_BROKEN = '''- RDataFrame with a helper.

```python
import ROOT
ROOT.gROOT.SetBatch(True)
ROOT.gInterpreter.Declare("float lead(const RVecF &pt) {{ return pt.empty() ? -1.f : pt[0]; }}")
df = ROOT.RDataFrame("Events", "{path}")
h = df.Define("lead", "lead(Jet_pt)").Histo1D(("lead", ";leading jet pT [GeV];Events", 50, 0, 300), "lead")
c = ROOT.TCanvas()
h.Draw("HIST")
c.SaveAs("lead.png")
```
'''


@pytest.mark.slow  # two ROOT attempts; the advice itself is checked by the stack contract (test_builtin_contracts.py)
def test_cling_error_advice_reaches_fix_prompt(sample, tmp_path):
    from vibeplot.core.ask.loop import AskOptions, ask
    from vibeplot.testing.scripted_server import ScriptedServer

    broken = CLING_BROKEN.format(path=sample)
    fixed = broken.replace("const RVecF &", "const ROOT::RVecF &")
    with ScriptedServer([broken, fixed]) as server:
        result = ask(AskOptions(question="Plot the leading jet pT", stack="rdataframe", dataset=str(sample),
                                model="openai/gpt-4o-mini", api_base=server.url, out=tmp_path, use_cache=False))
    assert result.outcome == "plot", result.message
    assert [a["status"] for a in result.manifest["attempts"]] == ["failed", "plot"]
    fix = server.requests[1]["messages"][-1]["content"]
    assert "unknown type name 'RVecF'" in fix
    assert "write ROOT::RVecF" in fix
    sidecar = result.run_dir / "lead.png.json"
    assert sidecar.is_file() and '"TH1"' in sidecar.read_text()


def test_root_th1_with_unusual_binning_validates_as_correct(tmp_path, sample):
    """ADL Q1 drawn by ROOT with 37 bins from 3 to 517 GeV is still the right plot."""
    from vibeplot.core.sandbox import run as sandbox
    from vibeplot.core.ask import validate

    script = tmp_path / "met.py"
    script.write_text(textwrap.dedent(f'''
        import ROOT
        ROOT.gROOT.SetBatch(True)
        h = ROOT.RDataFrame("Events", "{sample}").Histo1D(("met", ";MET [GeV];Events", 37, 3, 517), "MET_pt")
        c = ROOT.TCanvas()
        h.Draw("HIST")
        c.SaveAs("met.png")
    '''))
    assert sandbox.run_script(script, workdir=tmp_path, grant=sandbox.Grant(read_only=(sample,))).ok
    reference = validate.truth_values_for("adl-1", str(sample), "flat-ntuple")
    verdict = validate.validate(validate.load_sidecars(tmp_path), reference)
    assert verdict.status == "correct", verdict.diagnosis


@pytest.mark.slow  # a ROOT run in the sandbox
def test_values_hook_leaves_histo1d_as_it_was(tmp_path):
    """The values hook of reference runs records what Histo1D fills and changes nothing else: a
    model's axis titles reach the histogram (they were lost: the hook called ROOT's Histo1D
    unbound, past ROOT's own tuple-to-TH1DModel pythonization) and ``Histo1D["double"]`` still
    works (it was not subscriptable)."""
    import json

    from vibeplot.core.sandbox.child import values
    from vibeplot.core.sandbox.run import run_script

    script = tmp_path / "histos.py"
    script.write_text(textwrap.dedent('''
        import ROOT
        df = ROOT.RDataFrame(4).Define("x", "double(rdfentry_)")
        a = df.Histo1D(("a", "A;x [GeV];Entries", 4, 0, 4), "x")
        b = df.Histo1D["double"](("b", "B;y [GeV];Pairs", 4, 0, 4), "x")
        c = df.Histo1D(ROOT.RDF.TH1DModel("c", "C;z [GeV];Jets", 4, 0, 4), "x")
        for h in (a, b, c):
            print(h.GetTitle(), h.GetXaxis().GetTitle(), h.GetYaxis().GetTitle(), int(h.GetEntries()), sep="|")
    '''))
    out = tmp_path / "values.json"
    result = run_script(script, workdir=tmp_path, startup=["vibeplot.core.sandbox.child.values"],
                        extra_env={values.ENV: str(out)})
    assert result.returncode == 0, result.stderr  # (no PNG: not a plot)
    assert result.stdout.splitlines() == ["A|x [GeV]|Entries|4", "B|y [GeV]|Pairs|4", "C|z [GeV]|Jets|4"]
    assert [(r["source"], r["label"], r["values"]) for r in json.loads(out.read_text())] == [
        ("RDataFrame.Histo1D", label, [0.0, 1.0, 2.0, 3.0]) for label in ("x [GeV]", "y [GeV]", "z [GeV]")]
