"""Build the prompts: the first one, and the fix prompt after a failed attempt.

First prompt = the stack's prompt + its hint bricks (system message), then
the dataset section, the question and the reply format (user message).  The
fix prompt repeats both and adds the previous code, what went wrong (policy
violations, the output tails) and the stack's explainer advice.
"""

from __future__ import annotations

import hashlib
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


def hint_brick(name: str, stack) -> str:
    """A hint brick by name: the stack's own ``hints/NAME.md`` first, then the shared one."""
    if stack.local_hints_dir is not None and (stack.local_hints_dir / f"{name}.md").is_file():
        return (stack.local_hints_dir / f"{name}.md").read_text(encoding="utf-8")
    shared = resources.files("vibeplot.hints").joinpath(f"{name}.md")
    if not shared.is_file():
        raise ConfigError(f"stack {stack.name} uses hint brick {name!r}, which does not exist")
    return shared.read_text(encoding="utf-8")


def system_message(stack, dataset=None) -> str:
    bricks = [hint_brick(name, stack).strip() for name in stack.bricks_for(dataset)]
    return stack.prompt_template.strip() + "\n\n# Hints\n\n" + "\n\n".join(bricks) + "\n"


def _user_message(stack, question: str, dataset) -> str:
    block = dataset.prompt_block()
    if stack.dataset_access is not None:
        block += stack.dataset_access(dataset).rstrip() + "\n"
    return f"{block}\n## Question\n{question.strip()}\n\n{REPLY_FORMAT}\n"


def first_prompt(stack, dataset, question: str) -> Prompt:
    return Prompt([
        {"role": "system", "content": system_message(stack, dataset)},
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
        {"role": "system", "content": system_message(stack, dataset)},
        {"role": "user", "content": "\n\n".join(parts) + "\n"},
    ])
