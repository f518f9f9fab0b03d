"""Plugins: built-in and third-party stacks come through the same entry points."""

import importlib.metadata
import inspect

from vibeplot.core import hookspecs, plugins


def test_builtin_stack_registered_through_entry_point():
    eps = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="vibeplot")}
    assert eps["uproot_opendata"] == "vibeplot.stacks.uproot_opendata"
    assert plugins.stacks()["uproot_opendata"].source.startswith("vibeplot ")


def test_third_party_stack_discovered():
    toy = plugins.get_stack("toy")
    assert toy.source == "vibeplot-toy-stack 0.0.1"
    assert toy.hint_bricks == ["hist_mplhep"]
    from vibeplot.core.stack import Failure

    assert toy.explain(Failure("", "", "ModuleNotFoundError: x", 1)) == ["toy advice: numpy only"]


def test_hookspecs_are_documented():
    for name in ("register_stacks", "register_dataset_resolvers", "register_commands"):
        spec = getattr(hookspecs, name)
        assert len(inspect.getdoc(spec)) > 100, name


def test_embedded_resolver_registered():
    from vibeplot.core.resolver import ResolveContext, candidates

    found = candidates("the ADL benchmark sample", ResolveContext())
    assert found and found[0].dataset.name == "adl-sample"
    assert candidates("no such sample anywhere", ResolveContext()) == [] or all(
        c.score < 0.85 for c in candidates("no such sample anywhere", ResolveContext()))


def test_no_top_level_core_or_cli_installed(tmp_path):
    """The folders are installed as vibeplot.*; `core` and `cli` are not importable from elsewhere."""
    import subprocess
    import sys

    code = "import importlib.util as u; print(u.find_spec('core'), u.find_spec('cli'), u.find_spec('vibeplot.core').name)"
    out = subprocess.run([sys.executable, "-I", "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["None", "None", "vibeplot.core"]
