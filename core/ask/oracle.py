"""The ``reference`` oracle: curated solutions, answered like a model would.

It is not an LLM.  For a known benchmark question (matched by id or wording,
see :mod:`vibeplot.core.questions`) it replies with the stack's curated
reference solution, in the same reply format models use, at zero tokens and
zero cost.  Anything else is refused with a clear message.
"""

from __future__ import annotations

from vibeplot.core.errors import ConfigError
from vibeplot.core.ask.llm import REFERENCE_MODEL, Reply
from vibeplot.core.questions import match


def answer(question: str, stack, dataset) -> Reply:
    q = match(question)
    if q is None:
        raise ConfigError(
            "the reference oracle only answers known benchmark questions, and this is not one",
            hint="ask a benchmark question by id or wording (`vibeplot questions list`); "
            "for anything else use a real model with --model",
        )
    code = stack.reference_solution(q.id, dataset)
    if code is None:
        raise ConfigError(f"the {stack.name} stack has no reference solution for {q.id}")
    code = code.replace("{{dataset}}", dataset.location)
    notes = [f"Curated reference solution for {q.id} in the {stack.name} stack (vibeplot's oracle, not an LLM)."]
    if q.meaning:
        notes.append(f"Meaning chosen: {q.meaning}")
    text = "\n".join(f"- {n}" for n in notes) + f"\n\n```python\n{code}```\n"
    return Reply(text=text, model=REFERENCE_MODEL, prompt_tokens=0, completion_tokens=0, cost_usd=0.0)
