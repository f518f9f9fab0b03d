"""Error explainers for the rdataframe stack: cling and RDataFrame messages → short advice.

After its own rules come the ServiceX advice (:mod:`vibeplot.core.servicex.explainers`)
and the awkward advice (:mod:`vibeplot.hints.awkward`).
"""

from __future__ import annotations

import re

from vibeplot.core.servicex.explainers import advise as servicex_advice
from vibeplot.core.stack import Failure, rule_advice
from vibeplot.hints.awkward import advise as awkward_advice

_RULES: list[tuple[re.Pattern, str]] = [
    (re.compile(r"unknown type name '(RVec\w*)'|no type named '(RVec\w*)'"),
     "{0} lives in the ROOT namespace: write ROOT::{0} (e.g. const ROOT::RVecF &pt)."),
    (re.compile(r"use of undeclared identifier '(\w+)'"),
     "'{0}' is not declared: a column name must exist (df.GetColumnNames()), a helper function must be "
     "declared with ROOT.gInterpreter.Declare before the Define that uses it, and VecOps functions "
     "may need the ROOT::VecOps:: prefix."),
    (re.compile(r"no matching function for call to '(\w+)'"),
     "The arguments of {0} do not match its declaration: float columns are ROOT::RVecF (RVec<float>), "
     "int columns ROOT::RVecI; check the types with df.GetColumnType(\"name\")."),
    (re.compile(r"cannot (?:initialize|convert).*RVec<(?:float|double|int)>.*RVec<(?:float|double|int)>"),
     "RVec element types differ (RVecF vs RVecD): make the helper's argument and return types match the "
     "columns, or convert explicitly."),
    (re.compile(r'Unknown column: "?([\w.]+)"?'),
     "Column {0!r} does not exist in the tree: use the names from the dataset section (or "
     "df.GetColumnNames())."),
    (re.compile(r'cannot find (?:dataset|tree) "(\w+)"'),
     "There is no tree {0!r} in the file: ServiceX FuncADL outputs on flat trees use `servicex`, "
     "ATLAS xAOD outputs `atlas_xaod_tree`, UprootRaw keeps the input tree's name; local files use "
     "the tree named in the dataset section."),
    (re.compile(r"An error occurred during just-in-time compilation"),
     "A C++ string in Define/Filter did not compile; the cling error lines above it name the problem."),
    (re.compile(r"(?:ROOT|cling).*(?:fatal error: '(\w+)' file not found)"),
     "The C++ standard headers are missing: install g++ (libstdc++ development files)."),
]


def advise(failure: Failure) -> list[str]:
    advice = rule_advice(_RULES, failure.stderr)
    return advice + [a for a in servicex_advice(failure) + awkward_advice(failure) if a not in advice]


EXPLAINERS = [advise]
advise.examples = [
    "input_line_52:2:28: error: unknown type name 'RVecF'",
    "input_line_60:3:10: error: use of undeclared identifier 'deltaR'",
    "runtime_error: Unknown column: Jet_ptt",
    "An error occurred during just-in-time compilation. The lines above might indicate the cause",
    *servicex_advice.examples,
]
