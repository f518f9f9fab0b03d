"""The xAOD pre-flight on replies shaped like real model replies: every form of func_adl's "method not
found" warning is caught with its method and object named; correct PHYSLITE queries of each shape pass.

Each case runs the script once in the sandbox with ``deliver`` replaced (about 2 s), so the table
runs in the full suite; the fast tier keeps one wrong and one correct case.
"""

from __future__ import annotations

import ast
import textwrap

import pytest

from vibeplot.core.servicex import preflight

pytest.importorskip("servicex_local")
pytest.importorskip("func_adl_servicex_xaodr25")

SCRIPT = '''
from func_adl_servicex_xaodr25 import FuncADLQueryPHYSLITE
from servicex import deliver, ServiceXSpec, Sample, dataset
from servicex_analysis_utils import to_awk
import awkward as ak
import matplotlib.pyplot as plt

base_query = FuncADLQueryPHYSLITE()
{query}
spec = ServiceXSpec(Sample=[Sample(Name="sample", Dataset=dataset.Rucio("mc23_13p6TeV:mc23_13p6TeV.801167.x"),
                                   NFiles=1, Query=query)])
data = to_awk(deliver(spec))["sample"]
plt.hist(ak.flatten(data.x, axis=None), bins=50)
plt.savefig("plot.png")
'''


def reply(query: str) -> str:
    return SCRIPT.format(query=textwrap.dedent(query).strip())


WRONG = {
    "pt-on-jet-collection": ('query = base_query.Select(lambda e: {"x": e.Jets().pt() / 1000.0})',
                             "`pt` was called on a stream of `Jet_v1` (a whole collection), not on one object: "
                             "call it per object, inside `.Select(lambda x: x.pt())`."),
    "pt-on-electrons": ('query = base_query.Select(lambda e: {"x": e.Electrons().pt() / 1000.0})',
                        "`pt` was called on a stream of `Electron_v1`"),
    "met-without-first": ('query = base_query.Select(lambda e: {"x": e.MissingET().met() / 1000.0})',
                          "`met` was called on a stream of `MissingET_v1`"),
    "collection-passed-on": ('''
        query = (base_query
                 .Select(lambda e: {"jets": e.Jets()})
                 .Select(lambda c: {"x": c.jets.eta()}))''', "`eta` was called on a stream of `Jet_v1`"),
    "misspelt-on-one-jet": ('query = base_query.Select(lambda e: {"x": e.Jets().Select(lambda j: j.ptt())})',
                            "Method ptt does not exist on Jet_v1 (checked offline against the R25 xAOD types)."),
    "method-on-a-number": ('query = base_query.Select(lambda e: {"x": e.Jets().Select(lambda j: j.eta().abs())})',
                           "`abs` was called on a `float` value, which has no methods in a query."),
    "min-of-values": ('query = base_query.Select(lambda e: {"x": e.Jets().Select(lambda j: j.pt() / 1000.0).Min()})',
                      "`.Min()` of a sequence translates to a loop whose running minimum starts at 0"),
    "topo-jets-container": ('query = base_query.Select(lambda e: {"x": e.Jets("AntiKt4EMTopoJets").Select(lambda j: j.pt())})',
                            "PHYSLITE has no container 'AntiKt4EMTopoJets': call e.Jets() without a name"),
    "met-final-container": ('query = base_query.Select(lambda e: {"x": e.MissingET("MET_Final").First().met()})',
                            "PHYSLITE has no container 'MET_Final': call e.MissingET() without a name"),
    "collection-in-inner-lambda": ('''
        query = (base_query
                 .Where(lambda e: e.Muons().Where(lambda m: e.Jets().Count() > 0).Count() > 0)
                 .Select(lambda e: {"x": e.Muons().Select(lambda m: m.pt() / 1000.0)}))''',
                                   "A collection (e.g. e.Jets()) is called inside an inner lambda"),
}

CORRECT = {
    "nested-select": '''
        query = (base_query
                 .Select(lambda e: {"jets": e.Jets()})
                 .Select(lambda c: {"x": c.jets.Select(lambda j: j.pt() / 1000.0)}))''',
    "where-on-objects-and-events": '''
        query = (base_query
                 .Select(lambda e: {"mu": e.Muons().Where(lambda m: m.pt() / 1000.0 > 25)})
                 .Where(lambda c: c.mu.Count() >= 2)
                 .Select(lambda c: {"x": c.mu.Select(lambda m: m.charge())}))''',
    "first-on-missinget-and-weights": '''
        query = (base_query
                 .Select(lambda e: {"met": e.MissingET().First(), "w": e.EventInfo("EventInfo").mcEventWeight(0)})
                 .Select(lambda c: {"x": c.met.met() / 1000.0, "w": c.w}))''',
    "sum-and-max-of-values": '''
        query = base_query.Select(lambda e: {
            "x": e.Jets().Select(lambda j: j.pt() / 1000.0).Sum(),
            "lead": e.Jets().Select(lambda j: j.pt() / 1000.0).Max(),
        })''',
    "named-physlite-container": '''
        query = base_query.Select(lambda e: {"x": e.Jets("AnalysisJets").Select(lambda j: j.pt() / 1000.0)})''',
}

FAST_WRONG, FAST_CORRECT = "pt-on-jet-collection", "first-on-missinget-and-weights"


def check(code: str) -> list[str]:
    return preflight.xaod_preflight(code, ast.parse(code))


@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n == FAST_WRONG else pytest.mark.slow) for n in WRONG])
def test_each_form_is_caught_with_its_method_and_object(name):
    query, advice = WRONG[name]
    problems = check(reply(query))
    assert any(advice in p for p in problems), problems
    # func_adl's warning and its C++ twin ("assuming that the method ...") are one problem, not two
    assert not any("The C++ translation does not know" in p for p in problems), problems


@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n == FAST_CORRECT else pytest.mark.slow)
                                  for n in CORRECT])
def test_correct_queries_pass(name):
    assert check(reply(CORRECT[name])) == []


@pytest.mark.slow
def test_warnings_before_a_crash_are_kept_with_the_crash():
    code = reply('query = base_query.Select(lambda e: {"x": e.Jets().pt() / 1000.0})').replace(
        "spec = ServiceXSpec", "raise KeyError('jet_pt')\nspec = ServiceXSpec")
    problems = check(code)
    assert any("`pt` was called on a stream of `Jet_v1`" in p for p in problems), problems
    assert any("stopped before deliver()" in p and "KeyError: 'jet_pt'" in p for p in problems), problems


def test_the_physlite_defaults_are_the_translators():
    from func_adl_servicex_xaodr25.default_calibration_config import default_calibration_config

    physlite = default_calibration_config()["PHYSLITE"]
    for method, container in preflight.PHYSLITE_DEFAULTS.items():
        attr = {"Jets": "jet_collection", "Electrons": "electron_collection", "Muons": "muon_collection",
                "Photons": "photon_collection", "TauJets": "tau_collection", "MissingET": "met_collection"}[method]
        assert getattr(physlite, attr) == container and container in preflight.PHYSLITE_CONTAINERS
