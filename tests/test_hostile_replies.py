"""vibeplot stays up and tells the truth under faulty or hostile model replies and servers.

Each case runs a real ``ask`` (in process, or the ``vibeplot`` CLI) against a scripted
OpenAI-compatible server on 127.0.0.1 and asserts the exact outcome: run.json never left at
"running", the documented exit code, no traceback.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from conftest import only_run_dir, read_manifest, run_cli
from test_fix_loop import BROKEN, QUESTION, fixed_reply
from vibeplot.core.errors import ConfigError, ModelCallError
from vibeplot.core.ask.loop import AskOptions, ask
from vibeplot.testing.scripted_server import ScriptedServer

MODEL = "openai/gpt-4o-mini"  # priced in litellm's bundled map
HELPER = "```python\ndef to_gev(x):\n    return x / 1000\n```\n"
USAGE = "```python\nprint('run it with: python script.py')\n```\n"


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text, text


def _files_of(run_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run_dir)): p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}


# -- in process: ask() against one scripted server ----------------------------------------------


@dataclass
class Case:
    script: Callable  # sample -> list of script entries
    outcome: str  # run.json outcome
    statuses: list[str]  # status of each attempt
    raises: type | None = None
    opts: dict = field(default_factory=dict)
    check: Callable | None = None  # (manifest, run_dir, server, sample) -> None


def _surrogates(sample):
    code = fixed_reply(sample).split("```python\n", 1)[1]
    return [f"- odd \ud800 note\n\n```python\n# comment \udcff\n{code}"]


def _check_surrogates(m, run, server, sample):
    assert m["attempts"][0]["notes"] == ["odd \\ud800 note"]
    reply = (run / "attempt-1" / "reply.md").read_text(encoding="utf-8")  # valid UTF-8
    assert "odd \\ud800 note" in reply
    assert (run / "attempt-1" / "script.py").read_text(encoding="utf-8").startswith("# comment \\udcff\n")


def _check_decline_surrogate(m, run, server, sample):
    assert m["message"] == "the model declined: no \\ud800 [/] plot"


def _check_helper_then_script(m, run, server, sample):
    first = m["attempts"][0]
    assert first["code_block"] == {"blocks": 2, "used": 2, "why": "the longest complete block that parses as python"}
    assert "MET_et" in (run / "attempt-1" / "script.py").read_text()  # the full (broken) script ran
    fix = server.requests[1]["messages"][-1]["content"]
    assert "The reply had 2 python blocks; only block 2" in fix and "exactly one block" in fix
    assert "KeyInFileError" in fix  # and the failure itself


def _check_script_then_usage(m, run, server, sample):
    assert m["attempts"][0]["code_block"]["used"] == 1
    assert len(server.requests) == 1


def _check_estimated_tokens(m, run, server, sample):
    import litellm

    llm = m["attempts"][0]["llm"]
    assert llm["tokens_estimated"] is True
    messages = server.requests[0]["messages"]
    reply = (run / "attempt-1" / "reply.md").read_text()
    assert llm["prompt_tokens"] == litellm.token_counter(model=MODEL, messages=messages) > 0
    assert llm["completion_tokens"] == litellm.token_counter(model=MODEL, text=reply) > 0
    expected = sum(litellm.cost_per_token(model=MODEL, prompt_tokens=llm["prompt_tokens"],
                                          completion_tokens=llm["completion_tokens"]))
    assert llm["cost_usd"] == pytest.approx(expected, rel=1e-12) and expected > 0
    assert m["totals"]["cost_usd"] == llm["cost_usd"]


def _check_reported_tokens(m, run, server, sample):
    assert m["attempts"][0]["llm"]["tokens_estimated"] is False


def _check_no_answer(m, run, server, sample):
    assert "no answer from openai/gpt-4o-mini" in m["message"] and "within 1 s" in m["message"]


CASES = {
    "lone-surrogates": Case(_surrogates, "plot", ["plot"], check=_check_surrogates),
    "decline-with-surrogate-and-markup": Case(lambda s: ["DECLINE: no \ud800 [/] plot"], "declined", ["declined"],
                                              check=_check_decline_surrogate),
    "helper-then-full-script": Case(lambda s: [HELPER + "Full script:\n\n" + BROKEN.format(path=s), fixed_reply(s)],
                                    "plot", ["failed", "plot"], check=_check_helper_then_script),
    "full-script-then-usage": Case(lambda s: [fixed_reply(s) + "Run it:\n" + USAGE], "plot", ["plot"],
                                   check=_check_script_then_usage),
    "no-usage": Case(lambda s: [{"reply": fixed_reply(s), "usage": False}], "plot", ["plot"],
                     check=_check_estimated_tokens),
    "usage": Case(lambda s: [fixed_reply(s)], "plot", ["plot"], check=_check_reported_tokens),
    "never-answers": Case(lambda s: [{"hang": True}], "error", ["model-error"], raises=ModelCallError,
                          opts={"llm_timeout": 1.0}, check=_check_no_answer),
    "not-json": Case(lambda s: [{"raw": "<html>oops</html>"}], "error", ["model-error"], raises=ModelCallError,
                     opts={"llm_timeout": 1.0}),
    "no-choices": Case(lambda s: [{"raw": json.dumps({"id": "x", "object": "chat.completion", "created": 0,
                                                      "model": "m", "choices": []})}],
                       "error", ["model-error"], raises=ModelCallError, opts={"llm_timeout": 1.0}),
    "server-error-then-reply": Case(lambda s: [{"status": 500}, fixed_reply(s)], "plot", ["plot"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_reply(name, sample, tmp_path):
    case = CASES[name]
    opts = AskOptions(question=QUESTION, model=MODEL, out=tmp_path, use_cache=False, max_iterations=2,
                      **case.opts)
    start = time.monotonic()
    with ScriptedServer(case.script(sample)) as server:
        opts.api_base = server.url
        if case.raises:
            with pytest.raises(case.raises):
                ask(opts)
        else:
            ask(opts)
    run = only_run_dir(tmp_path)
    m = read_manifest(run)
    assert m["outcome"] == case.outcome, m.get("message")
    assert [a["status"] for a in m["attempts"]] == case.statuses
    assert m["llm_timeout"] == opts.llm_timeout and m["api_key_given"] is False
    if "llm_timeout" in case.opts:  # every failure is bounded by about 4 × the per-call timeout
        assert time.monotonic() - start < 4 * case.opts["llm_timeout"] + 6
    if case.check:
        case.check(m, run, server, sample)


def test_surrogate_reply_through_the_disk_cache(sample, tmp_path):
    """The same reply twice, the second from litellm's disk cache: both stored the same way."""
    model = "openai/gpt-4o"  # not used with the cache elsewhere, so the first call is a miss
    with ScriptedServer(_surrogates(sample)) as server:
        first = ask(AskOptions(question=QUESTION, model=model, api_base=server.url, out=tmp_path / "a"))
        second = ask(AskOptions(question=QUESTION, model=model, api_base=server.url, out=tmp_path / "b"))
    assert first.outcome == second.outcome == "plot" and len(server.requests) == 1
    assert second.manifest["attempts"][0]["llm"]["cache_hit"] is True
    assert (first.run_dir / "attempt-1" / "reply.md").read_text() == (second.run_dir / "attempt-1" / "reply.md").read_text()


def test_the_total_deadline_bounds_every_retry(tmp_path):
    """Four tries of 1 s against a silent server, with backoff, all within the 4 s deadline."""
    from vibeplot.core.ask import llm

    with ScriptedServer([{"hang": True}]) as server:
        start = time.monotonic()
        with pytest.raises(ModelCallError, match="no answer"):
            llm.complete(MODEL, [{"role": "user", "content": "hi"}], api_base=server.url, use_cache=False,
                         timeout=1.0)
        spent = time.monotonic() - start
    assert 2 <= len(server.requests) <= 4 and spent < 4 + 3, (len(server.requests), spent)


def test_the_key_is_redacted_when_a_server_echoes_it(tmp_path):
    from vibeplot.core.ask import llm

    key = "sk-explicit-echoed-0123456789"
    with ScriptedServer([lambda messages: f"you sent {key}"]) as server:
        reply = llm.complete(MODEL, [{"role": "user", "content": "hi"}], api_base=server.url, api_key=key,
                             use_cache=False)
        assert reply.text == "you sent ***"
    with ScriptedServer([{"status": 401, "message": f"bad key {key}"}]) as server:
        with pytest.raises(ConfigError) as err:
            llm.complete(MODEL, [{"role": "user", "content": "hi"}], api_base=server.url, api_key=key,
                         use_cache=False)
    assert key not in str(err.value) and "***" in str(err.value)


# -- the CLI ----------------------------------------------------------------------------------------

SECRET = "sk-secret-do-not-send-0123456789abcdef"
EXPLICIT = "sk-explicit-for-this-server-0123456789"


@dataclass
class CliCase:
    script: Callable  # sample -> list of script entries
    args: list[str]
    returncode: int
    outcome: str | None  # run.json outcome (None: no run directory is made)
    stderr: list[str] = field(default_factory=list)  # all of these are in stderr
    env: dict = field(default_factory=dict)
    authorization: str | None = None  # the header the server received
    max_seconds: float = 120
    #: left out of the everyday tier (each is a whole `vibeplot ask`); its kind of input has an in-process
    #: case in CASES above, or a sibling CLI case stays
    slow: bool = False


CLI_CASES = {
    "decline-with-surrogate-and-markup": CliCase(lambda s: ["DECLINE: no \ud800 [/] plot [bold]"], [], 1, "declined",
                                                 ["declined: no \\ud800 [/] plot [bold]"]),
    "surrogate-reply-plots": CliCase(_surrogates, [], 0, "plot", slow=True),
    "never-answers": CliCase(lambda s: [{"hang": True}], ["--llm-timeout", "1"], 1, "error",
                             ["no answer from openai/gpt-4o-mini", "--llm-timeout"], max_seconds=90, slow=True),
    "timeout-from-the-environment": CliCase(lambda s: [{"hang": True}], [], 1, "error", ["within 1 s"],
                                            env={"VIBEPLOT_LLM_TIMEOUT": "1"}, max_seconds=90, slow=True),
    "bad-timeout-setting": CliCase(lambda s: [], [], 2, None, ["llm_timeout must be a positive number"],
                                   env={"VIBEPLOT_LLM_TIMEOUT": "soon"}),
    "env-key-not-sent": CliCase(lambda s: [fixed_reply(s)], [], 0, "plot", env={"OPENAI_API_KEY": SECRET},
                                authorization="Bearer no-key"),
    "explicit-key-sent": CliCase(lambda s: [fixed_reply(s)], ["--api-key", EXPLICIT], 0, "plot",
                                 env={"OPENAI_API_KEY": SECRET}, authorization=f"Bearer {EXPLICIT}", slow=True),
    "key-from-vibeplot-env": CliCase(lambda s: [fixed_reply(s)], [], 0, "plot",
                                     env={"OPENAI_API_KEY": SECRET, "VIBEPLOT_API_KEY": EXPLICIT},
                                     authorization=f"Bearer {EXPLICIT}", slow=True),
}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow if c.slow else ()) for n, c in CLI_CASES.items()])
def test_hostile_cli(name, sample, tmp_path):
    case = CLI_CASES[name]
    start = time.monotonic()
    with ScriptedServer(case.script(sample) or ["unused"]) as server:
        proc = run_cli("ask", "-m", MODEL, "--api-base", server.url, "--no-cache", *case.args, QUESTION,
                       cwd=tmp_path, env=case.env)
    assert time.monotonic() - start < case.max_seconds
    assert proc.returncode == case.returncode, proc.stderr
    _no_traceback(proc.stdout + proc.stderr)
    for text in case.stderr:
        assert text in proc.stderr, proc.stderr
    runs = tmp_path / "vibeplot-runs"
    if case.outcome is None:
        assert not runs.exists() or not any(runs.iterdir())
        return
    run = only_run_dir(runs)
    manifest = read_manifest(run)
    assert manifest["outcome"] == case.outcome
    if case.authorization:
        assert [h["authorization"] for h in server.headers] == [case.authorization]
        assert manifest["api_key_given"] is (case.authorization != "Bearer no-key")
    files = _files_of(run)
    for secret in (SECRET, EXPLICIT):  # no key anywhere in the run directory, nor in the output
        assert not [f for f, data in files.items() if secret.encode() in data]
        assert secret not in proc.stdout + proc.stderr


def test_compare_counts_estimated_cost_against_max_cost(sample, tmp_path):
    """Replies without usage are priced from counted tokens, so --max-cost stops the compare."""
    import litellm

    from vibeplot.core.bench.compare import CompareOptions, load_results, run_compare

    with ScriptedServer([{"reply": fixed_reply(sample), "usage": False}]) as server:
        result = run_compare(CompareOptions(questions=["adl-1"], stacks=["uproot_opendata"], models=[MODEL],
                                            trials=2, jobs=1, out=tmp_path / "cmp", max_cost=1e-9,
                                            api_base=server.url, baseline=False, llm_timeout=5))
    assert result.stopped.startswith("--max-cost") and result.ran == 1 and len(server.requests) == 1
    (row,) = load_results(tmp_path / "cmp").to_pylist()
    messages = server.requests[0]["messages"]
    tokens_in = litellm.token_counter(model=MODEL, messages=messages)
    assert row["tokens_in"] == tokens_in and row["tokens_out"] > 0
    expected = sum(litellm.cost_per_token(model=MODEL, prompt_tokens=tokens_in, completion_tokens=row["tokens_out"]))
    assert row["cost_usd"] == pytest.approx(expected, rel=1e-12) and row["cost_usd"] > 0
    assert result.cost == pytest.approx(expected, rel=1e-12)
