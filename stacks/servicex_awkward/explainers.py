"""Error explainers for the servicex_awkward stack: ServiceX's advice, then awkward's."""

from __future__ import annotations

from vibeplot.core.servicex.explainers import advise as servicex_advice
from vibeplot.core.stack import Failure
from vibeplot.hints.awkward import advise as awkward_advice


def advise(failure: Failure) -> list[str]:
    return servicex_advice(failure) + awkward_advice(failure)


EXPLAINERS = [advise]
advise.examples = [*servicex_advice.examples, *awkward_advice.examples]
