"""Pull the notes, the python code, or a refusal out of a model reply.

Models are asked for a bulleted list of notes and exactly one fenced python
block.  Replies vary: ``~~~`` fences, ``py``/``python3`` tags, no tag, an
unclosed fence at the end of a truncated reply, prose before and after, or a
bare script.  A refusal starts a line with ``DECLINE:``.

>>> r = extract("- reads MET\\n```python\\nprint(1)\\n```\\nDone.")
>>> r.code, r.notes
('print(1)\\n', ['reads MET'])
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
    #: problems to feed back to the model (no code, several blocks, ...)
    problems: list[str] = field(default_factory=list)


def _blocks(text: str) -> list[tuple[str, str, int]]:
    """(info string, body, start offset) of every fenced block; an unclosed last fence runs to the end."""
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
        blocks.append((opening["info"].strip().lower(), body, opening.start()))
        if not end:
            return blocks
        pos = end.end()


def _looks_like_python(text: str) -> bool:
    if not re.search(r"^\s*(import|from)\s+\w", text, re.M):
        return False
    try:
        ast.parse(text)
        return True
    except SyntaxError:
        return False


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

    python_blocks = [b for info, b, _ in blocks if info.split(" ")[0] in _PY_TAGS]
    if not python_blocks:  # untagged blocks that parse as python
        python_blocks = [b for info, b, _ in blocks if not info and _looks_like_python(b)]
    if not python_blocks and not blocks and _looks_like_python(reply):
        python_blocks = [reply]

    if not python_blocks:
        result.problems.append(
            "The reply had no python code block. Reply with the notes and exactly one ```python block."
        )
        return result
    if len(python_blocks) > 1:
        # Keep the most complete block; tell the model to send one next time.
        result.problems.append(
            f"The reply had {len(python_blocks)} python blocks; only the longest was used. "
            "Send the whole script in exactly one block."
        )
    code = max(python_blocks, key=len)
    result.code = code if code.endswith("\n") else code + "\n"
    return result
