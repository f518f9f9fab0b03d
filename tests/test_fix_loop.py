"""The ask loop against a scripted OpenAI-compatible server: real HTTP through litellm."""

from __future__ import annotations

import json

import pytest

from vibeplot.core import plugins
from vibeplot.core.ask.loop import AskOptions, ask
from vibeplot.testing.scripted_server import ScriptedServer, count_words

from conftest import LogSlice

QUESTION = "Plot the missing transverse energy of all events"

BROKEN = """- Reads MET and plots it.

```python
import uproot
import matplotlib.pyplot as plt
events = uproot.open("{path}")["Events"].arrays(["MET_et"])
plt.hist(events.MET_et, bins=50)
plt.savefig("met.png")
```
"""


def fixed_reply(sample) -> str:
    code = plugins.get_stack("uproot_opendata").reference_solution("adl-1").replace("{{dataset}}", str(sample))
    return f"- Fixed the branch name.\n\n```python\n{code}```\n"


def _ask(server, out, model="openai/gpt-4o-mini", **kw):
    return ask(AskOptions(question=QUESTION, model=model, api_base=server.url, out=out, use_cache=False, **kw))


def test_broken_then_fixed_two_attempts_tokens_and_cost(sample, tmp_path):
    import litellm

    with ScriptedServer([BROKEN.format(path=sample), fixed_reply(sample)]) as server:
        result = _ask(server, tmp_path)
    assert result.outcome == "plot"
    assert [p.name for p in result.plots] == ["met.png"]
    assert len(server.requests) == 2

    manifest = json.loads((result.run_dir / "run.json").read_text())
    attempts = manifest["attempts"]
    assert [a["status"] for a in attempts] == ["failed", "plot"]
    # tokens are the server's reported usage, call by call
    for attempt, request, reply in zip(attempts, server.requests, [BROKEN.format(path=sample), fixed_reply(sample)]):
        assert attempt["llm"]["prompt_tokens"] == count_words(request["messages"])
        assert attempt["llm"]["completion_tokens"] == len(reply.split())
    # cost from litellm's bundled price map for gpt-4o-mini
    price = litellm.model_cost["gpt-4o-mini"]
    totals = manifest["totals"]
    expected = totals["prompt_tokens"] * price["input_cost_per_token"] + \
        totals["completion_tokens"] * price["output_cost_per_token"]
    assert totals["cost_usd"] == pytest.approx(expected, rel=1e-9)
    assert totals["cost_usd"] > 0

    # the fix prompt carried the old code, the error and the explainer's advice
    fix = server.requests[1]["messages"][-1]["content"]
    assert "MET_et" in fix and "KeyInFileError" in fix
    assert "is not in the file" in fix
    assert (result.run_dir / "attempt-1" / "stderr.txt").read_text().count("KeyInFileError") >= 1
    assert (result.run_dir / "attempt-2" / "met.png").is_file()


def test_reply_without_code_is_fed_back_as_policy_error(sample, tmp_path):
    with ScriptedServer(["You should plot MET with 50 bins.", fixed_reply(sample)]) as server:
        result = _ask(server, tmp_path)
    assert result.outcome == "plot"
    assert [a["status"] for a in result.manifest["attempts"]] == ["policy", "plot"]
    assert "no python code block" in server.requests[1]["messages"][-1]["content"]


def test_policy_violation_is_not_run(sample, tmp_path):
    shows = fixed_reply(sample).replace("```\n", "plt.show()\n```\n", 1)
    with ScriptedServer([shows]) as server:
        result = _ask(server, tmp_path, max_iterations=2)
    assert result.outcome == "no-plot"
    assert [a["status"] for a in result.manifest["attempts"]] == ["policy", "policy"]
    assert not (result.run_dir / "attempt-1" / "stdout.txt").exists()  # never executed


def test_decline_ends_the_run_at_once(tmp_path, sample):
    with ScriptedServer(["DECLINE: this asks for a poem, not a plot"]) as server:
        result = ask(AskOptions(question="Write a poem about the Higgs", model="openai/gpt-4o-mini",
                                api_base=server.url, out=tmp_path, use_cache=False))
    assert result.outcome == "declined" and "poem" in result.message
    assert len(server.requests) == 1
    assert result.manifest["outcome"] == "declined"


def test_unknown_price_is_recorded_as_unknown(sample, tmp_path):
    with ScriptedServer([fixed_reply(sample)]) as server:
        result = _ask(server, tmp_path, model="openai/some-local-model")
    assert result.outcome == "plot"
    assert result.manifest["attempts"][0]["llm"]["cost_usd"] is None
    assert result.manifest["totals"]["cost_usd"] is None
    assert result.manifest["totals"]["prompt_tokens"] > 0


def test_rate_limit_is_retried(sample, tmp_path):
    with ScriptedServer([{"status": 429, "message": "slow down"}, fixed_reply(sample)]) as server:
        result = _ask(server, tmp_path)
    assert result.outcome == "plot"
    assert len(server.requests) == 2
    assert len(result.manifest["attempts"]) == 1


def test_disk_cache_answers_repeated_prompt(sample, tmp_path):
    with ScriptedServer([fixed_reply(sample)]) as server:
        first = ask(AskOptions(question=QUESTION, model="openai/gpt-4o-mini", api_base=server.url, out=tmp_path))
        second = ask(AskOptions(question=QUESTION, model="openai/gpt-4o-mini", api_base=server.url, out=tmp_path))
    assert first.outcome == second.outcome == "plot"
    assert len(server.requests) == 1
    assert second.manifest["attempts"][0]["llm"]["cache_hit"] is True


SX_BROKEN = '''- Reads MET through ServiceX.

```python
import matplotlib.pyplot as plt
from servicex import deliver, ServiceXSpec, Sample, dataset, query
from servicex_analysis_utils import to_awk
q = query.FuncADL_Uproot().FromTree("Events").Select(lambda e: {{"met": e.{branch}}})
spec = ServiceXSpec(Sample=[Sample(Name="met", Dataset=dataset.FileList([{files}]), NFiles=1, Query=q)])
met = to_awk(deliver(spec))["met"].met
plt.hist(met, bins=50, range=(0, 200))
plt.savefig("met.png")
```
'''


def sx_fixed_reply(sample) -> str:
    code = plugins.get_stack("servicex_awkward").reference_solution("adl-1").replace("{{dataset}}", str(sample))
    return f"- Fixed.\n\n```python\n{code}```\n"


@pytest.mark.parametrize("branch, files, message", [
    pytest.param("MET_ptt", "{sample!r}", "MET_ptt not in fields", id="missing-branch"),
    # slow: two more ServiceX runs, on the session's backend (missing-branch keeps one backend per attempt)
    pytest.param("MET_pt", "{sample!r}.replace('.root', '-missing.root')", "No such file or directory",
                 id="missing-file", marks=pytest.mark.slow),
])
def test_servicex_failures_reach_the_fix_prompt(sample, tmp_path, branch, files, message, request):
    broken = SX_BROKEN.format(branch=branch, files=files.format(sample=str(sample)))
    per_attempt = branch == "MET_ptt"  # one case keeps the backend started for each attempt
    shared = None if per_attempt else request.getfixturevalue("servicex_env")
    shared_log = None if per_attempt else LogSlice(shared.log_path)
    with ScriptedServer([broken, sx_fixed_reply(sample)]) as server:
        result = ask(AskOptions(question=QUESTION, stack="servicex_awkward", model="openai/gpt-4o-mini",
                                api_base=server.url, out=tmp_path, use_cache=False))
    assert result.outcome == "plot", result.message
    assert [a["status"] for a in result.manifest["attempts"]] == ["failed", "plot"]
    fix = server.requests[1]["messages"][-1]["content"]
    assert message in fix
    assert "Advice:" in fix and "The ServiceX transform failed:" in fix
    own_log = result.run_dir / "attempt-1" / "servicex-backend.log"
    assert own_log.is_file() == per_attempt
    log = own_log.read_text() if per_attempt else shared_log.read()
    assert "transform FAILED" in log and message in log


def test_wrong_answer_gets_a_verdict_with_diagnosis(sample, tmp_path):
    """MET left in MeV runs fine, but the verdict says wrong: scaled by 1000."""
    code = plugins.get_stack("uproot_opendata").reference_solution("adl-1").replace("{{dataset}}", str(sample))
    code = code.replace("h.fill(met=events.MET_pt)", "h.fill(met=events.MET_pt * 1000)")
    code = code.replace("Reg(50, 0, 200,", "Reg(50, 0, 200000,")
    assert "* 1000" in code and "200000" in code
    with ScriptedServer([f"- MET.\n\n```python\n{code}```\n"]) as server:
        result = _ask(server, tmp_path)
    assert result.outcome == "plot"
    verdict = result.manifest["verdict"]
    assert verdict["status"] == "wrong" and any("1000" in d for d in verdict["diagnosis"]), verdict


def test_validate_command(sample, tmp_path):
    from conftest import run_cli

    with ScriptedServer([fixed_reply(sample)]) as server:
        result = _ask(server, tmp_path)
    assert result.manifest["verdict"]["status"] == "correct"
    proc = run_cli("validate", str(result.run_dir), cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == "correct"
    proc = run_cli("validate", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and "not a vibeplot run directory" in proc.stderr


@pytest.mark.slow  # ADL 6's reference and known-mistake scripts recorded on the 100k-event sample
def test_known_mistake_is_named_in_the_verdict(sample, tmp_path):
    """ADL 6 answered with the highest-pT trijet: the verdict names that known mistake."""
    from vibeplot.core.questions import registry

    code = plugins.get_stack("uproot_opendata").reference_solution("adl-6").replace("{{dataset}}", str(sample))
    wrong = code.replace("ak.argmin(abs(trijet_p4.mass - 172.5), axis=1, keepdims=True)",
                         "ak.argmax(trijet_p4.pt, axis=1, keepdims=True)")
    assert wrong != code
    with ScriptedServer([f"- Trijet.\n\n```python\n{wrong}```\n"]) as server:
        result = ask(AskOptions(question=registry()["adl-6"].text, model="openai/gpt-4o-mini",
                                api_base=server.url, out=tmp_path, use_cache=False))
    verdict = result.manifest["verdict"]
    assert verdict["status"] == "wrong" and len(verdict["diagnosis"]) == 2, verdict
    assert all("known mistake: the trijet with the highest pT was taken" in d for d in verdict["diagnosis"])
