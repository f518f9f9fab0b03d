"""Pull the notes, the python code, or a refusal out of a model reply.

Models are asked for a bulleted list of notes and exactly one fenced python
block.  Replies vary: ``~~~`` fences, ``py``/``python3`` tags, no tag, an
unclosed fence at the end of a truncated reply, prose before and after, or a
bare script.  A refusal starts a line with ``DECLINE:``.

>>> r = extract("- reads MET\\n```python\\nprint(1)\\n```\\nDone.")
>>> r.code, r.notes
('print(1)\\n', ['reads MET'])

Several python blocks ("here is a helper ... here is the full script"): the
longest block that is complete (its fence closed) and parses as python is the
code, the last one among equals; failing that, the longest block.  The choice is
recorded in ``chosen`` and the model is told to send one block next time
(``warnings``: fed back in the next fix prompt, if any, but the code still runs):

>>> r = extract("A helper:\\n```python\\ndef f(): pass\\n```\\nThe script:\\n```python\\nimport f\\nf.g()\\n```")
>>> r.code, r.problems
('import f\\nf.g()\\n', [])
>>> r.chosen
{'blocks': 2, 'used': 2, 'why': 'the longest complete block that parses as python'}
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

_FENCE = re.compile(r"^(?P<indent>[ \t]{0,3})(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$", re.M)
_PY_TAGS = {"python", "py", "python3", "py3", "ipython", "pycon"}
_DECLINE = re.compile(r"^\s*(?:\*\*)?DECLINE(?:\*\*)?\s*:\s*(?P<reason>.+)$", re.M)
_BULLET = re.compile(r"^\s*[-*•]\s+(?P<text>.+)$")


@dataclass
class Extracted:
    code: str | None = None
    notes: list[str] = field(default_factory=list)
    declined: str | None = None
    #: problems that keep the code from running; fed back to the model (no code, ...)
    problems: list[str] = field(default_factory=list)
    #: told to the model in the next fix prompt, if any, but the code runs (several blocks)
    warnings: list[str] = field(default_factory=list)
    #: which python block is the code when the reply had several, and why (recorded per attempt)
    chosen: dict | None = None


def _blocks(text: str) -> list[tuple[str, str, int, bool]]:
    """(info string, body, start offset, closed) of every fenced block; an unclosed last fence runs
    to the end."""
    blocks = []
    pos = 0
    while True:
        opening = _FENCE.search(text, pos)
        if not opening:
            return blocks
        fence = opening["fence"]
        closing = re.compile(rf"^[ \t]{{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.M)
        end = closing.search(text, opening.end())
        body_end = end.start() if end else len(text)
        body = text[opening.end() + 1 : body_end] if opening.end() < len(text) else ""
        blocks.append((opening["info"].strip().lower(), body, opening.start(), end is not None))
        if not end:
            return blocks
        pos = end.end()


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
        return True
    except (SyntaxError, ValueError):  # ValueError: NUL bytes
        return False


def _looks_like_python(text: str) -> bool:
    return bool(re.search(r"^\s*(import|from)\s+\w", text, re.M)) and _parses(text)


def _choose(blocks: list[tuple[str, bool]]) -> tuple[int, str]:
    """Index of the block to run among (body, closed) python blocks, and why."""
    good = [i for i, (body, closed) in enumerate(blocks) if closed and _parses(body)]
    pool, why = (good, "the longest complete block that parses as python") if good else (
        range(len(blocks)), "the longest block (none both complete and parsing as python)")
    # max() keeps the first of equals: scan from the end so the last of equals wins
    best = max(reversed(list(pool)), key=lambda i: len(blocks[i][0].strip()))
    return best, why


def _notes(text: str) -> list[str]:
    return [m["text"].strip() for line in text.splitlines() if (m := _BULLET.match(line))]


def extract(reply: str) -> Extracted:
    """Split a model reply into notes, code, refusal and problems."""
    reply = reply.replace("\r\n", "\n")
    blocks = _blocks(reply)
    prose = reply[: blocks[0][2]] if blocks else reply
    result = Extracted(notes=_notes(prose))

    declined = _DECLINE.search(prose)
    if declined and not blocks:
        result.declined = declined["reason"].strip()
        return result

    python_blocks = [(b, closed) for info, b, _, closed in blocks if info.split(" ")[0] in _PY_TAGS]
    if not python_blocks:  # untagged blocks that parse as python
        python_blocks = [(b, closed) for info, b, _, closed in blocks if not info and _looks_like_python(b)]
    if not python_blocks and not blocks and _looks_like_python(reply):
        python_blocks = [(reply, True)]

    if not python_blocks:
        result.problems.append(
            "The reply had no python code block. Reply with the notes and exactly one ```python block."
        )
        return result
    best = 0
    if len(python_blocks) > 1:
        # Run the most complete block; tell the model to send one next time.
        best, why = _choose(python_blocks)
        result.chosen = {"blocks": len(python_blocks), "used": best + 1, "why": why}
        result.warnings.append(
            f"The reply had {len(python_blocks)} python blocks; only block {best + 1} ({why}) was run. "
            "Send the whole script in exactly one block."
        )
    code = python_blocks[best][0]
    result.code = code if code.endswith("\n") else code + "\n"
    return result
