"""pytest fixtures for testing stacks and anything else that talks to a model.

Loaded by pytest in every project that installs vibeplot (entry point group ``pytest11``,
name ``vibeplot``; ``pytest -p no:vibeplot`` turns it off).  Fixtures only, nothing autouse;
importing this module imports nothing of vibeplot's.

* ``scripted_model(replies, latency=0.0)``: a started
  :class:`~vibeplot.testing.scripted_server.ScriptedServer` (``.url``, ``.requests``), stopped
  at teardown; ``replies`` is one script entry or a list of them;
* ``vibeplot_cache``: an isolated ``VIBEPLOT_CACHE_DIR`` (shared by the tests of a session, so
  the embedded sample and the truth values are made once), no user config file, no
  ``VIBEPLOT_*`` settings but ``VIBEPLOT_ISOLATION``, no ``*_API_KEY`` in the environment;
  yields the directory;
* ``vibeplot_sample``: the embedded sample's path in that cache (generated on first use);
* ``register_stack(stack, ...)``: registers stacks until the test ends
  (:func:`vibeplot.testing.registered`).

::

    from vibeplot.core.ask.loop import AskOptions, ask

    def test_fix_loop(scripted_model, vibeplot_cache, tmp_path):
        server = scripted_model(["```python\\nbroken\\n```", FIXED_REPLY])
        result = ask(AskOptions(question="Plot the MET of all events", stack="my_stack",
                                model="openai/scripted", api_base=server.url, out=tmp_path,
                                use_cache=False))
        assert result.outcome == "plot" and len(server.requests) == 2

The LLM response cache lives in the cache directory too: pass ``use_cache=False`` to ``ask``
unless a test is about the cache, or one test's reply may answer another's prompt.
"""

from __future__ import annotations

import contextlib
import os

import pytest

#: settings kept from the environment: where scripts can be isolated is the machine's business
KEPT_SETTINGS = ("VIBEPLOT_ISOLATION",)


@pytest.fixture
def scripted_model():
    """Factory: ``scripted_model(replies, latency=0.0)`` -> a started ScriptedServer."""
    from vibeplot.testing.scripted_server import ScriptedServer

    servers = []

    def start(replies, *, latency: float = 0.0) -> ScriptedServer:
        script = list(replies) if isinstance(replies, (list, tuple)) else [replies]
        if not script:
            raise ValueError("scripted_model needs at least one reply")
        server = ScriptedServer(script, latency=latency).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def _vibeplot_cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("vibeplot-cache")


@pytest.fixture
def vibeplot_cache(_vibeplot_cache_dir, monkeypatch):
    """An isolated vibeplot cache directory and a clean vibeplot environment for one test."""
    for key in list(os.environ):
        if (key.startswith("VIBEPLOT_") and key not in KEPT_SETTINGS) or key.endswith("_API_KEY"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("VIBEPLOT_CACHE_DIR", str(_vibeplot_cache_dir))
    monkeypatch.setenv("VIBEPLOT_CONFIG", str(_vibeplot_cache_dir / "no-config.toml"))
    return _vibeplot_cache_dir


@pytest.fixture
def vibeplot_sample(vibeplot_cache):
    """The embedded ADL sample (100k events) in the isolated cache."""
    from vibeplot.datasets import embedded

    return embedded.ensure_sample()


@pytest.fixture
def register_stack():
    """Factory: ``register_stack(stack, ...)`` registers stacks until the test ends."""
    from vibeplot.testing import registered

    with contextlib.ExitStack() as stack:
        yield lambda *stacks: stack.enter_context(registered(*stacks))
