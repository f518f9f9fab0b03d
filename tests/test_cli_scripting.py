"""Scripting the CLI: --json outputs, ask --strict, -q/-v, `vibeplot runs`, summaries that never cut a path."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import only_run_dir, read_manifest, run_cli

from vibeplot.core import plugins
from vibeplot.testing.scripted_server import ScriptedServer

QUESTION = "Plot the missing transverse energy of all events"


def _json(proc):
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize(("args", "kind", "keys"), [
    (("stacks",), list, {"name", "source", "description", "hint_bricks", "formats"}),
    (("datasets", "list"), list, {"name", "title", "location", "format", "experiment", "metadata"}),
    (("datasets", "show", "adl-sample"), dict, {"name", "title", "location", "format", "tree", "prompt_notes"}),
    (("questions", "list"), list, {"id", "text", "tags", "dataset", "references"}),
    (("questions", "show", "adl-1"), dict, {"id", "text", "aliases", "meaning", "dataset", "references"}),
    (("questions", "match", "adl-1"), dict, {"id", "how", "reasons"}),
    (("hints", "show", "adl-1"), dict, {"stack", "question", "datasets", "messages"}),
    (("doctor",), dict, {"isolation_mode", "isolation", "bytecode_missing", "extras"}),
])
def test_listings_print_json(tmp_path, args, kind, keys):
    found = _json(run_cli(*args, "--json", cwd=tmp_path))
    assert isinstance(found, kind)
    for item in found if kind is list else [found]:
        assert keys <= set(item), set(item)
    if kind is list:
        assert found


def test_json_listings_say_the_same_as_the_text(tmp_path):
    stacks = _json(run_cli("stacks", "--json", cwd=tmp_path))
    assert {s["name"] for s in stacks} == set(plugins.stacks())
    questions = _json(run_cli("questions", "list", "--set", "adl", "--json", cwd=tmp_path))
    assert [q["id"] for q in questions] == [f"adl-{n}" for n in range(1, len(questions) + 1)]
    assert "uproot_opendata" in questions[0]["references"]
    assert _json(run_cli("questions", "match", "adl-2", "--json", cwd=tmp_path))["id"] == "adl-2"
    none = run_cli("questions", "match", "Plot the sphericity of photons", "--json", cwd=tmp_path)
    assert none.returncode == 1 and json.loads(none.stdout)["id"] is None


def test_datasets_resolve_json(tmp_path):
    found = _json(run_cli("datasets", "resolve", "semileptonic ttbar", "--json", cwd=tmp_path))
    assert set(found) == {"phrase", "status", "dataset", "why", "alternatives"}
    assert found["status"] == "resolved" and found["phrase"] == "semileptonic ttbar"
    assert "ttbar" in found["dataset"]["name"] and found["dataset"]["format"] and found["why"]
    assert all({"name", "score"} <= set(c) for c in found["alternatives"])


@pytest.mark.slow  # four reference runs and eleven commands: about 10-20 s
def test_ask_json_strict_quiet_verbose_and_runs(sample, tmp_path):
    """Reference runs with --json (one object on stdout), then `runs` lists, filters and shows them."""
    out = tmp_path / "runs"
    proc = run_cli("ask", "--model", "reference", "--out", str(out), "--json", QUESTION, cwd=tmp_path)
    record = _json(proc)  # the whole of stdout is one JSON object
    assert record["verdict"] == "correct" and record["outcome"] == "plot"
    assert Path(record["run"]).is_dir() and read_manifest(Path(record["run"]))["verdict"]["status"] == "correct"
    assert [Path(p).name for p in record["plots"]] == ["met.png"] and Path(record["plots"][0]).is_file()
    assert "outcome" in proc.stderr and "verdict" in proc.stderr  # the rich summary went to stderr

    # -q: nothing on stderr, the plot path on stdout; --strict with a correct verdict exits 0
    quiet = run_cli("-q", "ask", "--model", "reference", "--out", str(out), "--strict", "adl-2", cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr.strip() == "" and quiet.stdout.strip().endswith("jet_pt.png")
    # -v: each progress message on its own line
    verbose = run_cli("-v", "ask", "--model", "reference", "--out", str(tmp_path / "v"), QUESTION, cwd=tmp_path)
    assert verbose.returncode == 0 and "attempt 1/3: running the script" in verbose.stderr, verbose.stderr
    assert run_cli("-q", "-v", "stacks", cwd=tmp_path).returncode == 2

    listed = _json(run_cli("runs", "--out", str(out), "--json", cwd=tmp_path))
    assert [r["question"] for r in listed] == ["adl-2", QUESTION]  # newest first
    assert {"started", "question", "stack", "model", "outcome", "verdict", "cost_usd", "path"} <= set(listed[0])
    assert Path(listed[1]["path"]).resolve() == Path(record["run"])
    text = run_cli("runs", "--out", str(out), cwd=tmp_path)
    assert text.returncode == 0 and "2 run(s)" in text.stdout
    assert str(out / Path(record["run"]).name) in re.sub(r"[\s│]", "", text.stdout)  # the path column folds
    # the out setting is where `runs` looks by default
    by_setting = _json(run_cli("runs", "--json", cwd=tmp_path, env={"VIBEPLOT_OUT": str(out)}))
    assert len(by_setting) == 2
    # filters
    assert _json(run_cli("runs", "--out", str(out), "--verdict", "wrong", "--json", cwd=tmp_path)) == []
    assert len(_json(run_cli("runs", "--out", str(out), "--verdict", "correct", "--since", "1h", "--json",
                             cwd=tmp_path))) == 2
    assert _json(run_cli("runs", "--out", str(out), "--since", "2999-01-01", "--json", cwd=tmp_path)) == []
    assert _json(run_cli("runs", "--out", str(out), "--stack", "rdataframe", "--json", cwd=tmp_path)) == []
    bad = run_cli("runs", "--out", str(out), "--since", "yesterday-ish", cwd=tmp_path)
    assert bad.returncode == 2 and "--since" in bad.stderr

    # runs show: by name under --out, and by path
    name = Path(record["run"]).name
    shown = _json(run_cli("runs", "show", name, "--out", str(out), "--json", cwd=tmp_path))
    assert shown["verdict"] == "correct" and shown["plots"] == ["met.png"] and shown["question"] == QUESTION
    assert shown["totals"]["attempts"] == 1
    prefix = _json(run_cli("runs", "--out", str(out), "show", name[:17], "--json", cwd=tmp_path))
    assert prefix["path"] == str(out / name)
    text = run_cli("runs", "show", record["run"], cwd=tmp_path)
    assert text.returncode == 0 and re.search(r"^verdict\s+correct$", text.stdout, re.M), text.stdout
    missing = run_cli("runs", "show", "nope", "--out", str(out), cwd=tmp_path)
    assert missing.returncode == 2 and "no run 'nope'" in missing.stderr
    both = run_cli("runs", "show", name[:2], "--out", str(out), cwd=tmp_path)  # "20": both runs
    assert both.returncode == 2 and "names 2 runs" in both.stderr, both.stderr

    verdict = _json(run_cli("validate", record["run"], "--json", cwd=tmp_path))
    assert verdict["status"] == "correct" and verdict["run"] == record["run"] and verdict["diagnosis"] == []

    settings = _json(run_cli("config", "--json", cwd=tmp_path, env={"VIBEPLOT_STRICT": "true"}))
    assert settings["settings"]["strict"] == {"value": "true", "source": "VIBEPLOT_STRICT"}


def _wrong_met_reply(sample) -> str:
    code = plugins.get_stack("uproot_opendata").reference_solution("adl-1").replace("{{dataset}}", str(sample))
    code = code.replace("h.fill(met=events.MET_pt)", "h.fill(met=events.MET_pt * 1000)")
    code = code.replace("Reg(50, 0, 200,", "Reg(50, 0, 200000,")
    assert "* 1000" in code and "200000" in code
    return f"- MET.\n\n```python\n{code}```\n"


@pytest.mark.slow  # three scripted runs, each validated: about 10-25 s
def test_strict_makes_a_wrong_verdict_exit_1(sample, tmp_path):
    """The same wrong plot (MET in MeV): exit 0 without --strict, 1 with it (or with VIBEPLOT_STRICT)."""
    reply = _wrong_met_reply(sample)
    codes = {}
    for label, flags, env in [("plain", [], {}), ("strict", ["--strict"], {}), ("env", [], {"VIBEPLOT_STRICT": "1"})]:
        with ScriptedServer([reply]) as server:
            proc = run_cli("ask", "--model", "openai/gpt-4o-mini", "--api-base", server.url, "--no-cache",
                           "--out", str(tmp_path / label), "--json", *flags, QUESTION, cwd=tmp_path, env=env)
        record = json.loads(proc.stdout)
        assert record["verdict"] == "wrong" and record["outcome"] == "plot", record
        assert read_manifest(only_run_dir(tmp_path / label))["verdict"]["status"] == "wrong"
        codes[label] = proc.returncode
        if label != "plain":
            assert "--strict: the verdict is wrong" in proc.stderr
    assert codes == {"plain": 0, "strict": 1, "env": 1}
    bad = run_cli("ask", "--model", "reference", "--out", str(tmp_path / "bad"), QUESTION, cwd=tmp_path,
                  env={"VIBEPLOT_STRICT": "maybe"})
    assert bad.returncode == 2 and "strict" in bad.stderr and not (tmp_path / "bad").exists()


def test_summary_never_cuts_the_run_path(sample, tmp_path):
    """At 80 columns a long run path wraps in the summary table; every character of it is there."""
    out = tmp_path / ("deep-" * 12) / "runs"
    proc = run_cli("ask", "--model", "reference", "--out", str(out), QUESTION, cwd=tmp_path, env={"COLUMNS": "80"})
    assert proc.returncode == 0, proc.stderr
    run_dir = only_run_dir(out)
    assert len(str(run_dir)) > 80
    assert "…" not in proc.stderr
    assert max(len(line) for line in proc.stderr.splitlines()) <= 80
    assert str(run_dir) in re.sub(r"\s+", "", proc.stderr)


def test_shell_completion_script(tmp_path):
    """The README's recipe in bash: eval the script click prints, then complete a command and its options."""
    import os
    import shutil
    import subprocess
    import sys

    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    script = run_cli(cwd=tmp_path, env={"_VIBEPLOT_COMPLETE": "bash_source"})
    assert script.returncode == 0 and "complete " in script.stdout
    probe = """eval "$(_VIBEPLOT_COMPLETE=bash_source vibeplot)"
complete -p vibeplot
COMP_WORDS=(vibeplot ru); COMP_CWORD=1; _vibeplot_completion vibeplot; echo "words: ${COMPREPLY[*]}"
COMPREPLY=(); COMP_WORDS=(vibeplot runs --s); COMP_CWORD=2; _vibeplot_completion vibeplot; echo "options: ${COMPREPLY[*]}"
"""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([bash, "--norc", "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "-F _vibeplot_completion vibeplot" in lines[0]
    assert "words: runs" in lines and "options: --stack --since" in lines, lines
