"""The ``reference`` oracle: curated solutions, answered like a model would.

It is not an LLM.  For a known benchmark question (matched by id or wording,
see :mod:`vibeplot.core.questions`) it replies with the stack's curated
reference solution, in the same reply format models use, at zero tokens and
zero cost.  Anything else is refused with a clear message.

The rest of vibeplot knows it through :func:`is_oracle` (compare's baseline, the report) and
:class:`Oracle`, which the ask loop asks for a reply like it asks an LLM
(:class:`vibeplot.core.ask.llm.Model`)::

    model = Oracle(questions.match("Plot the missing ET of all events"), stack, dataset)  # refuses others
    reply = model.reply(messages)                     # the same curated reply every attempt
    model.records_values                              # True: its runs record the truth values

>>> is_oracle("reference"), is_oracle("openai/gpt-5-mini")
(True, False)
"""

from __future__ import annotations

from vibeplot.core.errors import ConfigError
from vibeplot.core.ask.llm import REFERENCE_MODEL, Reply
from vibeplot.core.questions import Question, match

#: the model name that means the oracle (``--model reference``)
NAME = REFERENCE_MODEL


def is_oracle(model: str) -> bool:
    """Whether ``model`` names the oracle rather than an LLM."""
    return model == NAME


class Oracle:
    """The oracle as the ask loop sees a model.  Built once per run, before any work: an
    unknown question (``question`` None) or a stack without its reference is refused here."""

    name = NAME
    #: a run of its script records the values it histograms (the truth validation compares with)
    records_values = True

    def __init__(self, question: Question | None, stack, dataset):
        self._reply = _reply(question, stack, dataset)

    def reply(self, messages: list[dict]) -> Reply:
        """The curated solution, whatever the messages say (fix prompts get it again)."""
        return self._reply


def answer(question: str, stack, dataset) -> Reply:
    """The oracle's reply to ``question`` (its text or id)."""
    return _reply(match(question), stack, dataset)


def fill_placeholders(code: str, locations: list[str]) -> str:
    """A reference's ``{{dataset}}`` (the first dataset) and ``{{dataset1}}``, ``{{dataset2}}``, ...
    (the datasets of a question about several samples, in its registered order) replaced by locations.

    >>> fill_placeholders('D = "{{dataset}}"; M = "{{dataset2}}"', ["/d.root", "/mc.root"])
    'D = "/d.root"; M = "/mc.root"'
    """
    for i, location in enumerate(locations, 1):
        code = code.replace("{{dataset%d}}" % i, location)
    return code.replace("{{dataset}}", locations[0]) if locations else code


def _reply(q: Question | None, stack, dataset) -> Reply:
    datasets = list(dataset) if isinstance(dataset, (list, tuple)) else [dataset]
    dataset = datasets[0]
    if q is None:
        raise ConfigError(
            "the reference oracle only answers known benchmark questions, and this is not one",
            hint="ask a benchmark question by id or wording (`vibeplot questions list`); "
            "for anything else use a real model with --model",
        )
    formats = stack.reference_formats
    for ds in datasets:
        if formats and ds is not None and ds.format not in formats:
            raise ConfigError(
                f"the {stack.name} stack's reference solutions are written for {' or '.join(formats)} "
                f"datasets, and {ds.name} is {ds.format}",
                hint="run the reference on a dataset of that format (the default sample is one), "
                     "or ask a real model with --model",
            )
    wanted = len(q.datasets) if len(q.datasets) > 1 else 1
    if len(datasets) != wanted:
        raise ConfigError(
            f"the reference solution of {q.id} reads {wanted} dataset(s), and {len(datasets)} were given",
            hint=("name each with --dataset, in the order " + ", ".join(q.datasets)) if wanted > 1
            else "give one dataset (or none, for the question's own)",
        )
    code = stack.reference_solution(q.id, dataset)
    if code is None:
        raise ConfigError(f"the {stack.name} stack has no reference solution for {q.id}")
    code = fill_placeholders(code, [d.location for d in datasets])
    notes = [f"Curated reference solution for {q.id} in the {stack.name} stack (vibeplot's oracle, not an LLM)."]
    if q.meaning:
        notes.append(f"Meaning chosen: {q.meaning}")
    text = "\n".join(f"- {n}" for n in notes) + f"\n\n```python\n{code}```\n"
    return Reply(text=text, model=NAME, prompt_tokens=0, completion_tokens=0, cost_usd=0.0)
