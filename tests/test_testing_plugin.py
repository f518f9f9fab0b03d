"""vibeplot.testing's pytest plugin: registered through the ``pytest11`` entry point, so a project
that installs vibeplot gets the fixtures with no conftest; cheap to load."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap

from conftest import ROOT

INNER = '''
import os
import urllib.request

import pytest

from vibeplot.core import plugins
from vibeplot.core.ask.loop import AskOptions, ask
from vibeplot.core.stack import Stack

SEEN = {}


def test_scripted_model_in_a_clean_environment(scripted_model, vibeplot_cache, tmp_path):
    assert os.environ["VIBEPLOT_CACHE_DIR"] == str(vibeplot_cache)
    assert "OPENAI_API_KEY" not in os.environ and "VIBEPLOT_MODEL" not in os.environ
    assert os.environ["VIBEPLOT_ISOLATION"] == "auto"  # the machine's setting is kept
    server = scripted_model("DECLINE: a poem is not a plot")
    result = ask(AskOptions(question="Write a poem", model="openai/scripted", api_base=server.url,
                            out=tmp_path, use_cache=False))
    assert result.outcome == "declined" and len(server.requests) == 1
    SEEN["url"] = server.url


def test_the_server_stopped_at_teardown():
    with pytest.raises(OSError):
        urllib.request.urlopen(SEEN["url"] + "/models", timeout=5)


def test_vibeplot_sample(vibeplot_sample, vibeplot_cache):
    assert vibeplot_sample.is_file() and vibeplot_sample.parent == vibeplot_cache


def test_register_stack(register_stack):
    register_stack(Stack(name="inner", description="a stack of this test", prompt_template="Plot."))
    assert plugins.get_stack("inner").source == "(registered at run time)"


def test_registered_only_during_the_test():
    assert "inner" not in plugins.stacks() and "toy" in plugins.stacks()
'''


def test_entry_point_and_loaded_here(request):
    eps = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="pytest11")}
    assert eps["vibeplot"] == "vibeplot.testing.pytest_plugin"
    assert request.config.pluginmanager.has_plugin("vibeplot")


def test_a_project_without_conftest_gets_the_fixtures(tmp_path):
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER))
    env = {**os.environ, "OPENAI_API_KEY": "sk-not-for-tests", "VIBEPLOT_MODEL": "openai/gpt-4o",
           "VIBEPLOT_ISOLATION": "auto"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_inner.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "5 passed" in proc.stdout


def test_loading_the_plugin_imports_nothing_of_vibeplot():
    code = ("import sys, vibeplot.testing.pytest_plugin; "
            "print(sorted(m for m in sys.modules if m.startswith(('vibeplot.core', 'http.server', 'litellm'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
