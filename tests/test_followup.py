"""Follow-up runs (`ask --continue`) and re-runs without the model (`vibeplot rerun`), issue 17 items 2-3."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import LogSlice, read_manifest, run_cli

from vibeplot.core import plugins
from vibeplot.core.ask import followup
from vibeplot.core.ask.history import follows
from vibeplot.core.errors import ConfigError
from vibeplot.testing.scripted_server import ScriptedServer

MEV_QUESTION = "Plot the missing transverse energy of all events in MeV"
FOLLOW_UP = "Plot the missing transverse energy of all events, in GeV"  # adl-1 in other words


# -- the marked place: substitution with ast, refusals instead of guesses -------------------------
def test_substitute_replaces_exactly_the_marked_literals():
    code = ('LABEL = "√s unknown"; INPUT_FILE = "/data/a.root"  # the input\n'
            'import uproot\nf = uproot.open(INPUT_FILE)\n'
            's = [Sample(Name="a", Dataset=dataset.FileList([INPUT_FILE]), NFiles=1, Query=q),\n'
            '     servicex.Sample(Name="b", Dataset=d, NFiles=1, Query=q)]\n')
    new = followup.substitute(code, location="/other/b é\U0001F600'\".root", nfiles=3)
    assert new.splitlines()[0] == 'LABEL = "√s unknown"; INPUT_FILE = \'/other/b é\U0001F600\\\'".root\'  # the input'
    assert new.count("NFiles=3") == 2 and "NFiles=1" not in new
    assert followup.current_input(new) == "/other/b é\U0001F600'\".root"
    assert new.splitlines()[1:3] == code.splitlines()[1:3]
    assert followup.substitute(code) == code


@pytest.mark.parametrize(("code", "kwargs", "says"), [
    ("import uproot\nf = uproot.open('/data/a.root')\n", {"location": "/b.root"}, "names no dataset in the marked place"),
    ("import os\nINPUT_FILE = os.environ['X']\n", {"location": "/b.root"}, "not a plain string"),
    ("INPUT_FILE = '/a.root'\nINPUT_FILE = '/c.root'\n", {"location": "/b.root"}, "assigns INPUT_FILE 2 times"),
    ("INPUT_FILE = '/a.root'\nf = open('/a.root')\n", {"location": "/b.root"}, "outside INPUT_FILE too (line 2)"),
    ("INPUT_FILE = '/a.root'\n", {"nfiles": 2}, "applies to ServiceX scripts"),
    ("N = 1\nSample(Name='a', NFiles=N)\n", {"nfiles": 2}, "no plain NFiles"),
    ("INPUT_FILE = (\n", {"location": "/b.root"}, "does not parse"),
])
def test_substitute_refuses_to_guess(code, kwargs, says):
    with pytest.raises(ConfigError, match=re.escape(says)):
        followup.substitute(code, **kwargs)


def test_references_name_their_input_in_the_marked_place():
    """Every reference of every built-in stack reads its dataset from one plain INPUT_FILE (what rerun replaces)."""
    checked = 0
    for name in ("uproot_opendata", "servicex_awkward", "rdataframe"):
        stack = plugins.get_stack(name)
        for path in sorted(stack.references_dir.rglob("*.py")) if stack.references_dir else ():
            code = path.read_text(encoding="utf-8")
            if re.search(r"\{\{dataset\d+\}\}", code):  # several datasets, one constant each: rerun keeps them
                continue
            code = code.replace("{{dataset}}", "/x/sample.root")
            assert "/y.root" in followup.substitute(code, location="/y.root"), path
            checked += 1
    assert checked >= 40


def _fake_run(out: Path, name: str, question: str, *, script: str | None, started: str, **extra) -> Path:
    run = out / name
    (run / "attempt-1").mkdir(parents=True)
    if script is not None:
        (run / "attempt-1" / "script.py").write_text(script)
    manifest = {"question": question, "started": started, "stack": "uproot_opendata", "model": "m",
                "attempts": [{"n": 1, "status": "plot" if script else "declined"}],
                "outcome": "plot" if script else "declined", "message": "m", **extra}
    (run / "run.json").write_text(json.dumps(manifest))
    return run


def test_which_run_is_continued(tmp_path):
    out = tmp_path / "runs"
    old = _fake_run(out, "20261201-a", "q1", script="x = 1\n", started="2026-12-01T00:00:00+00:00")
    new = _fake_run(out, "20261202-b", "q2", script=None, started="2026-12-02T00:00:00+00:00")
    assert followup.split_parent(("now with log y",), out) == (("now with log y",), new)  # the latest
    assert followup.split_parent((str(old), "now", "log y"), out) == (("now", "log y"), old)  # a path
    assert followup.split_parent(("20261201-a", "now"), out) == (("now",), old)  # a name under --out
    assert followup.split_parent(("now", "log y"), out) == (("now", "log y"), new)
    with pytest.raises(ConfigError, match="no question after"):
        followup.split_parent((str(old),), out)
    with pytest.raises(ConfigError, match="no run under"):
        followup.split_parent(("q",), tmp_path / "empty")
    with pytest.raises(ConfigError, match="not a vibeplot run directory"):
        followup.split_parent((str(tmp_path) + "/", "q"), out)
    assert followup.final_script(old, read_manifest(old)) == (1, "x = 1\n")
    with pytest.raises(ConfigError, match="has no final script"):
        followup.final_script(new, read_manifest(new))
    text = followup.with_parent("now with log y", new)  # no script: question and outcome only
    assert "### Earlier request\nq2" in text and "```python" not in text and "Outcome: declined" in text
    assert follows({"rerun_of": str(old)}) == "rerun of 20261201-a" and follows({}) == ""


def test_runs_over_several_datasets(tmp_path):
    """The parent's datasets are named again (files by location, catalog ones by name); --dataset is refused."""
    files = {"name": "a.root", "location": "/d/a.root", "metadata": {"given_as_path": True}}
    assert followup.parent_dataset({"dataset": files}) == "/d/a.root"
    several = [{"name": "toy-zmumu-mc", "location": "/c/z.root", "metadata": {}}, files]
    assert followup.parent_dataset({"dataset": several[0], "datasets": several}) == ["toy-zmumu-mc", "/d/a.root"]
    run = _fake_run(tmp_path, "20261201-two", "q", script="INPUT_FILE = '/d/a.root'\n",
                    started="2026-12-01T00:00:00+00:00", dataset=several[0], datasets=several)
    with pytest.raises(ConfigError, match="reads several datasets"):
        followup.rerun(followup.RerunOptions(run=run, dataset="/d/b.root", out=tmp_path / "out"))
    assert not (tmp_path / "out").exists()


# -- end to end with the scripted server ----------------------------------------------------------
def _met_script(sample, *, mev: bool) -> str:
    code = plugins.get_stack("uproot_opendata").reference_solution("adl-1").replace("{{dataset}}", str(sample))
    if mev:
        code = code.replace("h.fill(met=events.MET_pt)", "h.fill(met=events.MET_pt * 1000)")
        code = code.replace("Reg(50, 0, 200,", "Reg(50, 0, 200000,").replace("[GeV]", "[MeV]")
        assert "* 1000" in code
    return code


def _reply(code: str) -> str:
    return f"- MET.\n\n```python\n{code}```\n"


def _json(proc) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def chain(sample, tmp_path_factory):
    """A first ask (MET in MeV), an `ask --continue` (in GeV: adl-1), a rerun of that on a copy of the sample."""
    tmp = tmp_path_factory.mktemp("followup")
    out = tmp / "runs"
    scripted = ["--model", "openai/gpt-4o-mini", "--no-cache", "--out", str(out), "--json"]
    with ScriptedServer([_reply(_met_script(sample, mev=True))]) as server:
        first = _json(run_cli("ask", "--api-base", server.url, *scripted, MEV_QUESTION, cwd=tmp))
    with ScriptedServer([_reply(_met_script(sample, mev=False))]) as server:
        second = _json(run_cli("ask", "--continue", "--api-base", server.url, *scripted, FOLLOW_UP, cwd=tmp))
        requests = server.requests
    copy = tmp / "copy of sample.root"
    shutil.copyfile(sample, copy)
    third = _json(run_cli("rerun", second["run"], "--dataset", str(copy), "--out", str(out), "--json", cwd=tmp))
    return {"tmp": tmp, "out": out, "first": first, "second": second, "third": third, "requests": requests,
            "copy": copy}


@pytest.mark.slow  # two scripted asks and a rerun: about 15-25 s
def test_follow_up_carries_the_parent_and_validates(chain):
    first, second = chain["first"], chain["second"]
    assert first["outcome"] == "plot" and first["verdict"] is None  # no benchmark question: no verdict
    assert second["outcome"] == "plot" and second["verdict"] == "correct", second
    assert second["parent_run"] == first["run"] and read_manifest(Path(second["run"]))["parent_run"] == first["run"]
    assert second["dataset"] == first["dataset"] == "adl-sample"  # the parent's dataset by default
    [request] = chain["requests"]
    user = request["messages"][-1]["content"]
    parent_code = (Path(first["run"]) / "attempt-1" / "script.py").read_text()
    assert parent_code.strip() in user and "events.MET_pt * 1000" in user
    assert user.index(FOLLOW_UP) < user.index("### Earlier request") < user.index(MEV_QUESTION)
    assert re.search(r"`met\.png`: 50 bins from 0 to 200000, sum \d+", user), user
    prompt = (Path(second["run"]) / "attempt-1" / "prompt.md").read_text()
    assert parent_code.strip() in prompt


@pytest.mark.slow
def test_rerun_on_another_file(chain):
    second, third = chain["second"], chain["third"]
    assert third["outcome"] == "plot" and third["verdict"] == "correct", third
    assert third["rerun_of"] == second["run"] and third["attempts"] == 1 and third["prompt_tokens"] == 0
    assert third["dataset"] == "copy of sample.root"
    manifest = read_manifest(Path(third["run"]))
    assert manifest["dataset"]["location"] == str(chain["copy"].resolve())
    script = (Path(third["run"]) / "attempt-1" / "script.py").read_text()
    assert followup.current_input(script) == str(chain["copy"].resolve())
    before = (Path(second["run"]) / "attempt-1" / "script.py").read_text()
    assert script == followup.substitute(before, location=str(chain["copy"].resolve()))  # nothing else changed
    assert len(script.splitlines()) == len(before.splitlines()) and script != before


@pytest.mark.slow
def test_rerun_errors_and_the_listing(chain, tmp_path):
    out, tmp = chain["out"], chain["tmp"]
    bad = {
        "not a run": ("rerun", str(tmp_path), "--out", str(out)),
        "no final script": ("rerun", str(_fake_run(tmp_path / "o", "declined", "q", script=None,
                                                   started="2026-12-01T00:00:00+00:00")), "--out", str(out)),
        "unknown dataset": ("rerun", chain["second"]["run"], "--dataset", "zzqx unheard-of sample", "--out", str(out)),
        "nfiles on uproot": ("rerun", chain["second"]["run"], "--nfiles", "2", "--out", str(out)),
        "continue nothing": ("ask", "--continue", "--model", "reference", "--out", str(tmp_path / "none"), "adl-1"),
    }
    for label, args in bad.items():
        proc = run_cli(*args, cwd=tmp)
        assert proc.returncode == 2, (label, proc.stderr)
        assert proc.stderr.startswith("Error: ") and "Traceback" not in proc.stderr, (label, proc.stderr)
    listed = _json(run_cli("runs", "--out", str(out), "--json", cwd=tmp))
    assert [r["path"] for r in listed] == [str(out / Path(chain[k]["run"]).name) for k in ("third", "second", "first")]
    assert listed[0]["rerun_of"] == chain["second"]["run"] and listed[1]["parent_run"] == chain["first"]["run"]
    text = run_cli("runs", "--out", str(out), cwd=tmp)
    assert text.returncode == 0 and "follows" in text.stdout
    assert f"rerun of {Path(chain['second']['run']).name}"[:30] in text.stdout
    shown = run_cli("runs", "show", Path(chain["third"]["run"]).name, "--out", str(out), cwd=tmp)
    assert re.search(r"^rerun_of\s+" + re.escape(chain["second"]["run"]), shown.stdout, re.M), shown.stdout


@pytest.mark.slow  # one ServiceX run through the session's backend: about 5-15 s
def test_servicex_rerun_with_more_files(sample, servicex_env, tmp_path):
    """A ServiceX script re-run with --nfiles 2: the backend is used (no servicex.yaml needed by hand)."""
    code = plugins.get_stack("servicex_awkward").reference_solution("adl-1").replace("{{dataset}}", str(sample))
    parent = _fake_run(tmp_path / "runs", "20261201-sx", "adl-1", script=code, started="2026-12-01T00:00:00+00:00",
                       question_id="adl-1", stack="servicex_awkward",
                       dataset={"name": "adl-sample", "location": str(sample), "metadata": {}})
    log = LogSlice(servicex_env.log_path)
    record = _json(run_cli("rerun", str(parent), "--nfiles", "2", "--out", str(tmp_path / "runs"), "--json",
                           cwd=tmp_path))
    assert record["outcome"] == "plot" and record["verdict"] == "correct", record
    script = (Path(record["run"]) / "attempt-1" / "script.py").read_text()
    assert "NFiles=2" in script and "NFiles=1" not in script
    assert read_manifest(Path(record["run"]))["nfiles"] == 2
    assert log.read().strip(), "the session's ServiceX backend served no request"


@pytest.mark.slow  # two model calls through the CLI: about 5-20 s
def test_chat_follows_up_each_request(tmp_path):
    """`vibeplot chat`: two requests (both declined by the scripted model, so nothing runs); the
    second run follows the first and its prompt carries the first request."""
    import os
    import subprocess
    import sys

    out = tmp_path / "runs"
    first, second = "Tell me a joke about muons", "And one about taus"
    with ScriptedServer(["DECLINE: not a plot request"]) as server:
        proc = subprocess.run(
            [str(Path(sys.executable).with_name("vibeplot")), "chat", "--model", "openai/gpt-4o-mini", "--api-base",
             server.url, "--no-cache", "--out", str(out)],
            input=f"{first}\n\n{second}\nexit\nnever read\n", capture_output=True, text=True, cwd=tmp_path,
            timeout=300, env=dict(os.environ))
        requests = server.requests
    assert proc.returncode == 0, proc.stderr
    assert len(requests) == 2 and proc.stderr.count("the model declined") == 2, proc.stderr
    by_question = {read_manifest(r)["question"]: r for r in out.iterdir()}
    assert sorted(by_question) == sorted([first, second])
    runs = [by_question[first], by_question[second]]
    assert "parent_run" not in read_manifest(runs[0])
    assert read_manifest(runs[1])["parent_run"] == str(runs[0].resolve())
    user = requests[1]["messages"][-1]["content"]
    assert f"### Earlier request\n{first}" in user and "Outcome: declined" in user
    assert "Earlier request" not in requests[0]["messages"][-1]["content"]
