"""The house rules of the package layout, checked statically (ast, nothing imported).

Modules: every ``.py`` file of a package folder (one with ``__init__.py``) of the installed
``vibeplot.core``, ``.cli``, ``.stacks``, ``.datasets``, ``.hints`` and ``.testing``, found
through ``importlib.util.find_spec`` (so the folders the package really maps to).  Folders
without ``__init__.py`` (``references/``, ``_startup/``) hold scripts, not modules.

Imports: ``import a.b`` and ``from a.b import c`` anywhere in a module, relative ones
resolved; ``from a import b`` names the module ``a.b`` when that is a module, else ``a``.
An import is *deferred* when it sits inside a function body, or under ``if TYPE_CHECKING:``:
it does not run when the module is imported.  Module names given as strings (sandbox start-up modules
such as ``startup=["vibeplot.core.sandbox.child.values"]``) are imports too: every string
constant that starts with ``vibeplot.`` and names a module is counted, as deferred.

Rules:

* no module of one stack (``vibeplot.stacks.<a>``) imports a module of another
  (``vibeplot.stacks.<b>``), deferred imports and module-name strings included;
* nothing in ``vibeplot.core`` names a built-in stack: no import of anything under
  ``vibeplot.stacks.`` (deferred included), and no string constant in code — docstrings are
  left out, comments are not in the ast — that contains ``vibeplot.stacks.`` or a built-in
  stack's name (a sub-folder of ``vibeplot.stacks`` with ``__init__.py``) as a word.  The
  package ``vibeplot.stacks`` itself is not a stack: the sandbox puts its folder back
  read-only (:mod:`vibeplot.core.sandbox.isolation`), whatever stacks it holds.  No name is
  allowed (:data:`ALLOWED_STACK_NAMES` is empty): the default stack is the one that registers
  itself with ``default=True``.  Data files (``questions.toml``'s ``truth`` preference) may name stacks: a
  stack they name that is not installed is skipped;
* no import cycle among vibeplot modules through module-level (not deferred) imports; an
  edge goes to the module named, not to its parent packages;
* ``core/`` itself holds at most :data:`MAX_CORE_ROOT_MODULES` modules (``__init__`` counts).

And a behavioural check: with ``uproot_opendata`` unregistered, a run of another stack is
still validated (the truth comes from another stack's references).
"""

from __future__ import annotations

import ast
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGES = ["vibeplot.core", "vibeplot.cli", "vibeplot.stacks", "vibeplot.datasets", "vibeplot.hints",
            "vibeplot.testing"]
MAX_CORE_ROOT_MODULES = 10
#: (module, assigned name) pairs allowed to hold a built-in stack's name in core
ALLOWED_STACK_NAMES: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Import:
    target: str
    line: int
    deferred: bool


def package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, package
    return Path(list(spec.submodule_search_locations)[0])


def _walk_package(package: str, folder: Path) -> dict[str, Path]:
    out = {package: folder / "__init__.py"}
    for path in sorted(folder.iterdir()):
        if path.is_dir() and (path / "__init__.py").is_file():
            out.update(_walk_package(f"{package}.{path.name}", path))
        elif path.suffix == ".py" and path.name != "__init__.py":
            out[f"{package}.{path.stem}"] = path
    return out


MODULES: dict[str, Path] = {}
for _package in PACKAGES:
    MODULES.update(_walk_package(_package, package_dir(_package)))
BUILTIN_STACKS = sorted(name.split(".")[2] for name in MODULES if name.count(".") == 2
                        and name.startswith("vibeplot.stacks.") and MODULES[name].name == "__init__.py")


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the docstring nodes of a module, its classes and functions."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                out.add(id(first.value))
    return out


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _as_module(name: str) -> str:
    """The longest prefix of a dotted name that is a vibeplot module (``name`` itself if none)."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in MODULES:
            return ".".join(parts[:n])
    return name


def imports_of(module: str) -> list[Import]:
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    docstrings = _docstrings(tree)
    out: list[Import] = []

    def visit(node: ast.AST, deferred: bool) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            deferred = True
        elif isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, deferred)
            return
        if isinstance(node, ast.Import):
            out.extend(Import(alias.name, node.lineno, deferred) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                full = f"{source}.{alias.name}"
                out.append(Import(full if full in MODULES else source, node.lineno, deferred))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
              and re.fullmatch(r"vibeplot(\.\w+)+", node.value)):
            out.append(Import(node.value, node.lineno, True))
        for child in ast.iter_child_nodes(node):
            visit(child, deferred)

    visit(tree, False)
    return out


def test_the_walk_finds_the_package():
    assert {"vibeplot.core.ask.validate", "vibeplot.core.servicex.runner", "vibeplot.cli.main",
            "vibeplot.stacks.rdataframe.runner", "vibeplot.hints.awkward"} <= set(MODULES)
    assert BUILTIN_STACKS == ["rdataframe", "servicex_awkward", "uproot_opendata"]
    assert any(i.target == "vibeplot.core.servicex.runner" and not i.deferred
               for i in imports_of("vibeplot.stacks.rdataframe.runner"))
    assert any(i.target == "vibeplot.core.servicex.preflight_child" and i.deferred
               for i in imports_of("vibeplot.core.servicex.preflight"))


def _stack_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["vibeplot", "stacks"] else None


def test_no_stack_imports_another():
    found = []
    for module in MODULES:
        mine = _stack_of(module)
        if mine is None:
            continue
        for imp in imports_of(module):
            theirs = _stack_of(imp.target)
            if theirs is not None and theirs != mine:
                found.append(f"{module}:{imp.line} imports {imp.target}")
    assert not found, "\n".join(found)


def test_core_names_no_builtin_stack():
    word = re.compile(r"\b(" + "|".join(map(re.escape, BUILTIN_STACKS)) + r")\b")
    found = []
    for module, path in MODULES.items():
        if not module.startswith("vibeplot.core"):
            continue
        for imp in imports_of(module):
            if imp.target.startswith("vibeplot.stacks."):
                found.append(f"{module}:{imp.line} imports {imp.target}")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = _docstrings(tree)
        allowed = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Assign)
                   for target in node.targets
                   if isinstance(target, ast.Name) and (module, target.id) in ALLOWED_STACK_NAMES}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                    and id(node) not in allowed
                    and ("vibeplot.stacks." in node.value or word.search(node.value))):
                found.append(f"{module}:{node.lineno} names a stack: {node.value[:80]!r}")
    assert not found, "\n".join(found)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module, or a module importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:  # Tarjan; the graph is small, recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_no_import_cycles():
    graph = {m: {_as_module(i.target) for i in imports_of(m) if not i.deferred} & set(MODULES) - {m}
             for m in MODULES}
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert not _cycles(graph), _cycles(graph)


def test_core_root_is_small():
    root = package_dir("vibeplot.core")
    modules = sorted(p.name for p in root.glob("*.py"))
    assert len(modules) <= MAX_CORE_ROOT_MODULES, modules


# -- behaviour: another stack's references give the truth ----------------------------------------


@pytest.fixture
def without_uproot(monkeypatch):
    """The registered stacks as if ``uproot_opendata`` were not installed."""
    from vibeplot.core import plugins

    others = {name: stack for name, stack in plugins.stacks().items() if name != "uproot_opendata"}
    monkeypatch.setattr(plugins, "stacks", lambda: others)
    return others


def test_truth_comes_from_the_next_stack(without_uproot):
    from vibeplot.core.ask import validate

    if "rdataframe" not in without_uproot:
        pytest.skip("the rdataframe stack is not installed")
    assert [name for name, _ in validate.truth_scripts("adl-1", "flat-ntuple")] == ["rdataframe"]


@pytest.mark.skipif(importlib.util.find_spec("ROOT") is None, reason="ROOT is not installed")
@pytest.mark.slow  # a whole rdataframe run over ServiceX
def test_rdataframe_run_validates_without_uproot(without_uproot, sample, tmp_path):
    """``--model reference`` for rdataframe on the sample file: still ``correct`` (ADL 1)."""
    from vibeplot.core.ask.loop import AskOptions, ask
    from vibeplot.core.questions import registry

    result = ask(AskOptions(question=registry()["adl-1"].text, stack="rdataframe", dataset=str(sample),
                            model="reference", out=tmp_path))
    assert result.outcome == "plot", result.message
    assert result.manifest["verdict"]["status"] == "correct", result.manifest["verdict"]
