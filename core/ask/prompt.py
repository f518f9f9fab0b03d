"""Build the prompts: the first one, and the fix prompt after a failed attempt.

First prompt = the stack's prompt + its hint bricks (system message), then
the dataset section, the question and the reply format (user message).  The
fix prompt repeats both and adds the previous code, what went wrong (policy
violations, the output tails) and the stack's explainer advice.

A hint brick is markdown.  Lines that are only an HTML comment are notes for the
brick's readers and tests, never sent to the model (:func:`hint_brick` drops them);
one of them, ``<!-- when: REGEX -->``, makes the brick conditional: it goes into a
prompt only when the question matches REGEX (case-insensitive, searched anywhere),
e.g. the b-tagging brick only for questions about b-tags or b-jets
(:func:`chosen_bricks`).  The other notes (``given:``, ``check:``, ``no-run:``) are
read by the test that runs every brick's code (tests/test_hint_bricks.py).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from vibeplot.core.errors import ConfigError

REPLY_FORMAT = """\
## Reply format
First a short bulleted list of notes (what you did, any choices you made), then exactly one
```python block with the complete script. Nothing after the block."""


@dataclass
class Prompt:
    messages: list[dict]

    @property
    def text(self) -> str:
        """The whole prompt as one readable document (for logs and `hints show`)."""
        return "\n\n".join(f"<!-- {m['role']} -->\n{m['content']}" for m in self.messages) + "\n"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


#: a line that is only an HTML comment (possibly spanning lines): a note, not sent to the model
_NOTE_LINE = re.compile(r"^[ \t]*<!--(?:(?!-->).)*-->[ \t]*(?:\n|\Z)", re.M | re.S)
_WHEN = re.compile(r"^[ \t]*<!--\s*when:\s*((?:(?!-->).)*?)\s*-->", re.M | re.S)


def brick_source(name: str, stack) -> str:
    """A hint brick's file as written, notes included: the stack's own ``hints/NAME.md`` first,
    then the shared one."""
    if stack.local_hints_dir is not None and (stack.local_hints_dir / f"{name}.md").is_file():
        return (stack.local_hints_dir / f"{name}.md").read_text(encoding="utf-8")
    shared = resources.files("vibeplot.hints").joinpath(f"{name}.md")
    if not shared.is_file():
        raise ConfigError(f"stack {stack.name} uses hint brick {name!r}, which does not exist")
    return shared.read_text(encoding="utf-8")


def strip_notes(text: str) -> str:
    """``text`` without its note lines (whole-line HTML comments).

    >>> strip_notes("## b\\n<!-- when: x -->\\n- a\\n<!-- check:\\nassert 1\\n-->\\n- b <!-- kept -->\\n")
    '## b\\n- a\\n- b <!-- kept -->\\n'
    """
    return _NOTE_LINE.sub("", text)


def hint_brick(name: str, stack) -> str:
    """A hint brick by name, as the model sees it (:func:`brick_source` without its notes)."""
    return strip_notes(brick_source(name, stack))


def brick_condition(text: str) -> str | None:
    """The regular expression of a brick's ``<!-- when: REGEX -->`` note, or None (always sent)."""
    found = _WHEN.search(text)
    return found[1] if found else None


def wants_brick(text: str, question: str | None) -> bool:
    """Whether a brick (its source ``text``) goes into the prompt for ``question``: always without
    a ``when`` note or without a question, else when the question matches it.

    >>> wants_brick("<!-- when: b-?tag -->\\n## b-tagging", "the B-tagging discriminant of jets")
    True
    >>> wants_brick("<!-- when: b-?tag -->\\n## b-tagging", "Plot the missing ET")
    False
    """
    condition = brick_condition(text)
    return condition is None or question is None or re.search(condition, question, re.I) is not None


def chosen_bricks(stack, dataset=None, question: str | None = None) -> list[str]:
    """The stack's hint bricks for ``dataset`` (``stack.bricks_for``) that ``question`` wants
    (:func:`wants_brick`; every one when ``question`` is None)."""
    return [name for name in stack.bricks_for(dataset) if wants_brick(brick_source(name, stack), question)]


#: after the dataset sections of a question about several datasets (a data/MC overlay, a stacked plot)
SEVERAL_DATASETS = """\
## Several datasets
- The question uses all {n} datasets above: read each one and fill one histogram per dataset, all with
  the same binning, each labelled in the legend with its sample (its name above or its process).
- Data: unweighted, drawn as points with error bars. Simulation: weighted and normalised as its section
  says; when the question asks for a stack, one stacked component per simulated sample."""


def _as_list(dataset) -> list:
    """One dataset or several, as a list."""
    return list(dataset) if isinstance(dataset, (list, tuple)) else [dataset]


def _role(dataset) -> str:
    return {"data": "data", "simulation": "simulation"}.get((dataset.metadata or {}).get("kind"), "sample")


def dataset_sections(stack, dataset) -> str:
    """The dataset part of the user message: one section per dataset (``dataset`` may be a list),
    each with the stack's access lines; for several, each headed with its number and role (data or
    simulation) and followed by :data:`SEVERAL_DATASETS` and the stack's ``samples_note``."""
    datasets = _as_list(dataset)
    if len(datasets) == 1:
        block = datasets[0].prompt_block()
        if stack.dataset_access is not None:
            block += stack.dataset_access(datasets[0]).rstrip() + "\n"
        return block
    blocks = []
    for i, ds in enumerate(datasets, 1):
        block = ds.prompt_block(f"## Dataset {i} of {len(datasets)} ({_role(ds)}, `{ds.name}`): {ds.title}")
        if stack.dataset_access is not None:
            block += stack.dataset_access(ds).rstrip() + "\n"
        blocks.append(block)
    note = SEVERAL_DATASETS.format(n=len(datasets)) + "\n"
    samples_note = getattr(stack, "samples_note", None)
    if samples_note is not None:
        note += samples_note(datasets).rstrip() + "\n"
    return "\n".join(blocks) + "\n" + note


def system_message(stack, dataset=None, question: str | None = None) -> str:
    dataset = _as_list(dataset)[0] if dataset is not None else None
    bricks = [hint_brick(name, stack).strip() for name in chosen_bricks(stack, dataset, question)]
    return stack.prompt_template.strip() + "\n\n# Hints\n\n" + "\n\n".join(bricks) + "\n"


def _user_message(stack, question: str, dataset) -> str:
    block = dataset_sections(stack, dataset)
    return f"{block}\n## Question\n{question.strip()}\n\n{REPLY_FORMAT}\n"


def first_prompt(stack, dataset, question: str) -> Prompt:
    return Prompt([
        {"role": "system", "content": system_message(stack, dataset, question)},
        {"role": "user", "content": _user_message(stack, question, dataset)},
    ])


def fix_prompt(stack, dataset, question: str, code: str | None, problems: list[str],
               stdout_tail: str, stderr_tail: str, advice: list[str]) -> Prompt:
    parts = [_user_message(stack, question, dataset), "## Your previous attempt failed"]
    if code:
        parts.append(f"Previous code:\n```python\n{code.rstrip()}\n```")
    if problems:
        parts.append("Problems found:\n" + "\n".join(f"- {p}" for p in problems))
    if stdout_tail.strip():
        parts.append(f"End of stdout:\n```\n{stdout_tail}\n```")
    if stderr_tail.strip():
        parts.append(f"End of stderr:\n```\n{stderr_tail}\n```")
    if advice:
        parts.append("Advice:\n" + "\n".join(f"- {a}" for a in advice))
    parts.append("Fix the script. Reply in the same format with the complete corrected script.")
    return Prompt([
        {"role": "system", "content": system_message(stack, dataset, question)},
        {"role": "user", "content": "\n\n".join(parts) + "\n"},
    ])
