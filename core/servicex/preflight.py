"""Pre-flight for ATLAS xAOD (PHYSLITE) queries, before anything is sent to ServiceX.

A misspelt method in a FuncADL xAOD query is only logged by func_adl and the
query is still sent; ServiceX then fails minutes later.  The pre-flight runs
the script once in the sandbox with ``servicex.deliver`` replaced (see
:mod:`.preflight_child`, which runs inside the sandboxed script): the query is built and translated to C++ offline
(``servicex_local``'s xAOD code generator, well under a second), and every
unknown method or collection becomes a policy error fed back to the model.

:func:`xaod_preflight` is a policy; every stack that sends xAOD queries lists it.

>>> xaod_preflight("print('no xAOD query here')", None)
[]
"""

from __future__ import annotations

import ast
import functools
import json
import re
import sys
import tempfile
from pathlib import Path

from vibeplot.core.errors import missing_modules
from vibeplot.core.sandbox import run as sandbox

_XAOD_QUERY = re.compile(r"FuncADLQueryPHYS(LITE)?\b|FuncADL_ATLAS(r2[1-5]|xAOD)\b")


@functools.cache
def _skipped_once() -> None:
    print("Warning: xAOD queries are sent unchecked (the pre-flight needs the 'xaod-preflight' extra: "
          "pip install 'vibeplot[xaod-preflight]')", file=sys.stderr)


def xaod_preflight(code: str, tree: ast.Module, *, timeout: float = 120.0) -> list[str]:
    """Policy: problems found by building and translating the script's xAOD queries offline."""
    if not _XAOD_QUERY.search(code):
        return []
    containers = physlite_containers(tree)
    if missing_modules("servicex_local"):
        _skipped_once()
        return containers
    with tempfile.TemporaryDirectory(prefix="vibeplot-preflight-") as tmp:
        work = Path(tmp)
        script = work / "script.py"
        script.write_text(code, encoding="utf-8")
        report = work / "preflight.json"
        sandbox.run_script(
            script, workdir=work, limits=sandbox.Limits(timeout=timeout),
            extra_env={"VIBEPLOT_PREFLIGHT_REPORT": str(report)},
            startup=["vibeplot.core.servicex.preflight_child"],
        )
        data = sandbox.read_safely(report, 2**20)  # written by the hook, so also by the script: no links
        if data is None:
            return containers  # the script ended without a word: the real run will show why
        try:
            found = json.loads(data)
            problems = [str(p) for p in found["problems"]]
            crash = found.get("crash")
        except (ValueError, KeyError, TypeError, AttributeError):
            return containers
    if crash and problems:  # what func_adl said before the script failed is likely why it failed
        problems.append(f"The script then stopped before deliver(): {crash}")
    return containers + [f"Pre-flight: {p}" for p in problems]


#: The containers of a DAOD_PHYSLITE file (CollectionTree of the ATLAS PHYSLITE example in coffea's
#: tests/samples; trigger-match containers left out), and what each calibrated collection method
#: reads by default on PHYSLITE (func_adl_servicex_xaodr25's default calibration config).
PHYSLITE_CONTAINERS = frozenset({
    "AnalysisElectrons", "AnalysisJets", "AnalysisLargeRJets", "AnalysisMuons", "AnalysisPhotons",
    "AnalysisSiHitElectrons", "AnalysisTauJets", "AntiKt10TruthSoftDropBeta100Zcut10Jets", "AntiKt10UFOCSSKJets",
    "AntiKt4TruthDressedWZJets", "BTagging_AntiKt4EMPFlow", "BTagging_AntiKtVR30Rmax4Rmin02Track", "BornLeptons",
    "CombinedMuonTrackParticles", "EventInfo", "ExtrapolatedMuonTrackParticles", "FourLeptonVertices",
    "GSFConversionVertices", "GSFTrackParticles", "HardScatterParticles", "HardScatterVertices",
    "InDetTrackParticles", "Kt4EMPFlowEventShape", "METAssoc_AnalysisMET", "MET_Core_AnalysisMET", "MET_Truth",
    "MuonSpectrometerTrackParticles", "PrimaryVertices", "TauTracks", "TruthBSM", "TruthBSMWithDecayParticles",
    "TruthBSMWithDecayVertices", "TruthBoson", "TruthBosonsWithDecayParticles", "TruthBosonsWithDecayVertices",
    "TruthBottom", "TruthElectrons", "TruthEvents", "TruthForwardProtons", "TruthMuons", "TruthNeutrinos",
    "TruthPhotons", "TruthPrimaryVertices", "TruthTaus", "TruthTop", "egammaClusters",
})
PHYSLITE_DEFAULTS = {"Jets": "AnalysisJets", "Electrons": "AnalysisElectrons", "Muons": "AnalysisMuons",
                     "Photons": "AnalysisPhotons", "TauJets": "AnalysisTauJets", "MissingET": "MET_Core_AnalysisMET"}


def physlite_containers(tree: ast.Module | None) -> list[str]:
    """Problems: a calibrated collection asked for by a container name that PHYSLITE files do not have
    (``e.Jets("AntiKt4EMTopoJets")``, ``e.MissingET("MET_Final")``), in a script with a PHYSLITE query.

    >>> physlite_containers(ast.parse('q = FuncADLQueryPHYSLITE().Select(lambda e: e.Jets("AntiKt4EMTopoJets"))'))[0]
    "Pre-flight: PHYSLITE has no container 'AntiKt4EMTopoJets': call e.Jets() without a name (on PHYSLITE it reads AnalysisJets, already calibrated)."
    >>> physlite_containers(ast.parse('q = FuncADLQueryPHYSLITE().Select(lambda e: e.Jets("AnalysisJets"))'))
    []
    """
    if tree is None or not any(isinstance(n, ast.Name) and n.id == "FuncADLQueryPHYSLITE" for n in ast.walk(tree)):
        return []
    problems = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in PHYSLITE_DEFAULTS):
            continue
        named = [a for a in node.args[:1]] + [k.value for k in node.keywords if k.arg == "collection"]
        for arg in named:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value not in PHYSLITE_CONTAINERS:
                method = node.func.attr
                problem = (f"Pre-flight: PHYSLITE has no container {arg.value!r}: call e.{method}() without a name "
                           f"(on PHYSLITE it reads {PHYSLITE_DEFAULTS[method]}, already calibrated).")
                if problem not in problems:
                    problems.append(problem)
    return problems
