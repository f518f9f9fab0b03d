"""Error advice for scripts written with the ``awkward`` brick (awkward, vector, hist).

The explainer that goes with :file:`awkward.md`: a failure in, short advice out.
Every stack whose scripts use awkward arrays lists :func:`advise` among its
explainers (uproot_opendata, servicex_awkward, and rdataframe after its own rules).

>>> from vibeplot.core.stack import Failure
>>> advise(Failure(code="", stdout="", stderr="KeyInFileError: not found: 'Jet_ptt'", returncode=1))
["Branch or tree 'Jet_ptt' is not in the file: use only the names listed in the dataset section."]
"""

from __future__ import annotations

import re

from vibeplot.core.stack import Failure, rule_advice

_RULES: list[tuple[re.Pattern, str]] = [
    (re.compile(r"KeyInFileError: not found: '([^']+)'"),
     "Branch or tree {0!r} is not in the file: use only the names listed in the dataset section."),
    (re.compile(r"axis=(\d+) exceeds the depth of (this|the nested list structure|.*?array)"),
     "An awkward call used axis={0} on an array that is not that deep: an array with one value per "
     "event is already flat; do not flatten or reduce it again."),
    (re.compile(r"cannot broadcast nested list|cannot broadcast records|cannot broadcast"),
     "Two awkward arrays have different event structure: filter every array with the same event mask "
     "before combining them."),
    (re.compile(r"no field named '?(pt|eta|phi|mass|px|py|pz|E)'?|has no attribute '(deltaR|deltaphi|mass|pt)'"),
     "A four-vector property is missing: call vector.register_awkward() and build the objects with "
     "ak.zip({...}, with_name=\"Momentum4D\")."),
    (re.compile(r"TypeError: .*None|cannot convert .*None|'NoneType'"),
     "Some values are None (e.g. ak.max or ak.firsts of an empty list): remove those events or use "
     "ak.fill_none before filling."),
    (re.compile(r"ValueError: .*(?:fill|hist).*"),
     "hist.fill needs flat numeric arrays of equal length: flatten per-object arrays with ak.flatten "
     "and pass the axis name used in the histogram definition."),
    (re.compile(r"ModuleNotFoundError: No module named '([^']+)'"),
     "Module {0!r} is not installed in this stack: use uproot, awkward, vector, hist, mplhep, "
     "matplotlib and numpy only."),
]


def advise(failure: Failure) -> list[str]:
    if failure.timed_out:
        return ["The script hit the time limit: read only the branches you need, avoid Python loops over "
                "events, use vectorised awkward operations."]
    if failure.memory_exceeded:
        return ["The script hit the memory limit: read only the branches you need, or process the file "
                "in chunks with tree.iterate(step_size=...)."]
    return rule_advice(_RULES, failure.stderr)


EXPLAINERS = [advise]

#: failures this explainer is written for (the stack contract checks it advises on each)
advise.examples = [
    "uproot.exceptions.KeyInFileError: not found: 'MET_et'",
    "numpy.exceptions.AxisError: axis=1 exceeds the depth of this array (1)",
    "ValueError: cannot broadcast nested list",
    "ModuleNotFoundError: No module named 'coffea'",
]
