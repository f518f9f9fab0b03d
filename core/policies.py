"""Static policies: checks on generated code before it is run.

A policy is a callable ``policy(code: str, tree: ast.Module) -> list[str]``
returning human-readable violations (empty when the code complies).  The
violations are fed back to the model in the fix prompt, so write them as
instructions.

>>> check("import matplotlib.pyplot as plt\\nplt.show()", [no_show])
['Do not call plt.show() (there is no display); save the figure with savefig.']
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from typing import Callable

Policy = Callable[[str, ast.Module], list[str]]


def _calls(tree: ast.AST):
    """Yield (dotted name, call node) for every call in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield _dotted(node.func), node


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _dotted(node.func) + "()"
    return "?"


def saves_png_with_savefig(code: str, tree: ast.Module) -> list[str]:
    """The script must write its plot(s) with matplotlib's ``savefig``."""
    if any(name.endswith("savefig") for name, _ in _calls(tree)):
        return []
    return ["Save every plot to a PNG file in the current directory with savefig(\"name.png\")."]


_SHOW = re.compile(r"^((\w+\.)*(plt|pyplot|fig\w*|figure)\.)?show$")


def no_show(code: str, tree: ast.Module) -> list[str]:
    """No interactive display calls."""
    if any(_SHOW.match(name) for name, _ in _calls(tree)):
        return ["Do not call plt.show() (there is no display); save the figure with savefig."]
    return []


_SHELL_MODULES = {"subprocess", "pty", "pexpect", "sh", "plumbum"}
_SHELL_CALLS = re.compile(r"^(os\.(system|popen|exec\w*|spawn\w*|fork\w*|posix_spawn\w*)|pip\.main)$")
_INSTALL_TEXT = re.compile(r"(^|\s|!|%)(pip3?|uv|conda|mamba|apt(-get)?)\s+(install|add)\b")


def no_installs_or_shell(code: str, tree: ast.Module) -> list[str]:
    """No package installs and no shelling out from the generated script."""
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            bad = sorted({n.split(".")[0] for n in names} & _SHELL_MODULES)
            if bad:
                problems.append(f"Do not import {', '.join(bad)}: the script may not run other programs.")
    for name, _ in _calls(tree):
        if _SHELL_CALLS.match(name):
            problems.append(f"Do not call {name}(): the script may not run other programs.")
    if _INSTALL_TEXT.search(_without_comments(code)):
        problems.append("Do not install packages; every package the stack lists is already installed.")
    return problems


def _without_comments(code: str) -> str:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return code
    return " ".join(t.string for t in tokens if t.type != tokenize.COMMENT)


def parse(code: str) -> tuple[ast.Module | None, list[str]]:
    """Parse ``code``; a syntax error becomes a violation with its line."""
    try:
        return ast.parse(code), []
    except SyntaxError as err:
        return None, [f"The code does not parse: {err.msg} (line {err.lineno}). Send complete, valid Python."]


def check(code: str, policies: list[Policy]) -> list[str]:
    """All violations of ``policies`` by ``code`` (a syntax error stops further checks)."""
    tree, problems = parse(code)
    if tree is None:
        return problems
    for policy in policies:
        for problem in policy(code, tree):
            if problem not in problems:
                problems.append(problem)
    return problems


#: The policies every matplotlib-based stack starts from.
BASIC = [saves_png_with_savefig, no_show, no_installs_or_shell]
