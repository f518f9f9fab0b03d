"""The servicex_awkward stack without a backend: policies, pre-flight, explainers, prompt assembly."""

from __future__ import annotations

import textwrap

import pytest

from vibeplot.core import plugins, policies

from vibeplot.core.ask import prompt
from vibeplot.core.resolver import Dataset
from vibeplot.core.errors import ConfigError
from vibeplot.core.stack import Failure

STACK = "servicex_awkward"

GOOD = textwrap.dedent('''
    import matplotlib.pyplot as plt
    from servicex import deliver, ServiceXSpec, Sample, dataset, query
    from servicex_analysis_utils import to_awk
    q = query.FuncADL_Uproot().FromTree("Events").Select(lambda e: {"met": e.MET_pt})
    spec = ServiceXSpec(Sample=[Sample(Name="met", Dataset=dataset.FileList(["f.root"]), NFiles=1, Query=q)])
    met = to_awk(deliver(spec))["met"].met
    plt.hist(met)
    plt.savefig("met.png")
''')

PHYSLITE = textwrap.dedent('''
    from func_adl_servicex_xaodr25 import FuncADLQueryPHYSLITE
    from servicex import deliver, ServiceXSpec, Sample, dataset
    from servicex_analysis_utils import to_awk
    import matplotlib.pyplot as plt
    q = (FuncADLQueryPHYSLITE()
         .Select(lambda e: {"jets": e.Jets()})
         .Select(lambda c: {"jet_pt": c.jets.Select(lambda j: j.{method}() / 1000.0)}))
    spec = ServiceXSpec(Sample=[Sample(Name="jets", Dataset=dataset.Rucio("mc23_13p6TeV:x"), NFiles=1, Query=q)])
    data = to_awk(deliver(spec))["jets"]
    plt.savefig("x.png")
''')


@pytest.fixture(scope="module")
def stack():
    return plugins.get_stack(STACK)


def test_good_script_passes_static_policies(stack):
    assert policies.check(GOOD, stack.policies) == []


@pytest.mark.parametrize("change, expected", [
    ("NFiles=1, ", "NFiles=1"),                   # removed
    ("NFiles=1", "NFiles=10"),                     # too many
])
def test_nfiles(stack, change, expected):
    code = GOOD.replace(change, "" if expected == "NFiles=1" else expected)
    assert any("NFiles=1" in p for p in policies.check(code, stack.policies))


def test_no_servicex_at_all(stack):
    code = "import matplotlib.pyplot as plt\nplt.plot([1])\nplt.savefig('a.png')\n"
    assert any("ServiceX" in p for p in policies.check(code, stack.policies))


def test_to_awk_required(stack):
    code = GOOD.replace('to_awk(deliver(spec))["met"].met', 'deliver(spec)["met"]')
    assert any("to_awk" in p for p in policies.check(code, stack.policies))


def test_nested_dictionary_in_select(stack):
    code = GOOD.replace('{"met": e.MET_pt}', '{"met": {"pt": e.MET_pt}}')
    assert any("flat dictionary" in p for p in policies.check(code, stack.policies))
    code = GOOD.replace('{"met": e.MET_pt}', '{"jets": e.Jet_pt.Select(lambda j: {"pt": j})}')
    assert any("flat dictionary" in p for p in policies.check(code, stack.policies))


def test_preflight_names_the_misspelt_method(stack):
    problems = policies.check(PHYSLITE.replace("{method}", "ptt"), stack.policies)
    assert any("Pre-flight" in p and "ptt" in p and "Jet_v1" in p for p in problems), problems


def test_preflight_without_its_extra_warns_once_and_lets_the_query_through(stack, monkeypatch, capsys):
    from vibeplot.core.servicex import preflight

    monkeypatch.setattr(preflight, "missing_modules", lambda *names: list(names))
    preflight._skipped_once.cache_clear()
    code = PHYSLITE.replace("{method}", "ptt")
    assert preflight.xaod_preflight(code, None) == [] and preflight.xaod_preflight(code, None) == []
    warned = capsys.readouterr().err
    assert warned.count("pip install 'vibeplot[xaod-preflight]'") == 1
    preflight._skipped_once.cache_clear()


def test_preflight_accepts_a_correct_xaod_query(stack):
    assert policies.check(PHYSLITE.replace("{method}", "pt"), stack.policies) == []


def test_explainer_empty_result_list(stack):
    failure = Failure(GOOD, "", "RuntimeError: Delivered result file path list for met is empty.", 1)
    assert any("dataset name is probably wrong" in a for a in stack.explain(failure))
    failure = Failure(GOOD, "", "ValueError: ServiceX result path list for etmiss cannot be empty.", 1)
    assert any("etmiss" in a and "dataset name" in a for a in stack.explain(failure))


def test_explainer_carries_awkward_advice(stack):
    failure = Failure(GOOD, "", "numpy.exceptions.AxisError: axis=1 exceeds the depth of this array (1)", 1)
    assert any("already flat" in a for a in stack.explain(failure))


def _physlite_dataset():
    return Dataset(name="ttbar", title="ttbar", location="mc23_13p6TeV:mc23_13p6TeV.601237.x", format="physlite",
                   experiment="ATLAS")


def test_format_bricks_follow_the_dataset(stack, sample):
    from vibeplot.datasets import embedded

    flat = prompt.first_prompt(stack, embedded.dataset(), "Plot MET").text
    assert "FuncADL_Uproot" in flat and "FuncADLQueryPHYSLITE" not in flat
    assert 'dataset.FileList(["' in flat
    physlite = prompt.first_prompt(stack, _physlite_dataset(), "Plot MET").text
    assert "FuncADLQueryPHYSLITE" in physlite and "FuncADL_Uproot" not in physlite
    assert 'dataset.Rucio("mc23_13p6TeV:mc23_13p6TeV.601237.x")' in physlite


def test_rucio_dataset_needs_a_servicex_config(stack, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("VIBEPLOT_SERVICEX_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="servicex.yaml"):
        stack.check_dataset(_physlite_dataset())
    (tmp_path / "servicex.yaml").write_text("api_endpoints: []\n")
    stack.check_dataset(_physlite_dataset())  # found now: no error


def test_prompt_size(stack, sample):
    from vibeplot.core.ask import llm
    from vibeplot.datasets import embedded

    first = prompt.first_prompt(stack, embedded.dataset(), "Plot the missing transverse energy of all events.")
    assert sum(llm.count_tokens("gpt-4o", m["content"]) for m in first.messages) < 5000
