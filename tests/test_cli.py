"""The command line as a user meets it: exit codes, clear errors, no tracebacks."""

from __future__ import annotations

import json

import pytest

from conftest import only_run_dir, read_manifest, run_cli

Q1 = "Plot the missing transverse energy of all events"


def _no_traceback(proc):
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout


def test_help_lists_commands(tmp_path):
    proc = run_cli("--help", cwd=tmp_path)
    assert proc.returncode == 0
    for command in ("ask", "stacks", "hints", "datasets"):
        assert command in proc.stdout
    assert "Exit codes" in proc.stdout


def test_missing_credentials_is_one_clear_line(tmp_path):
    proc = run_cli("ask", "--model", "openai/gpt-4o-mini", Q1, cwd=tmp_path, env={"OPENAI_API_KEY": ""})
    assert proc.returncode == 2
    _no_traceback(proc)
    assert "OPENAI_API_KEY" in proc.stderr and "--model" in proc.stderr
    assert not (tmp_path / "vibeplot-runs").exists()  # nothing started


def test_anthropic_names_its_variable(tmp_path):
    proc = run_cli("ask", "-m", "anthropic/claude-sonnet-4-5", Q1, cwd=tmp_path)
    assert proc.returncode == 2 and "ANTHROPIC_API_KEY" in proc.stderr
    _no_traceback(proc)


def test_unknown_provider(tmp_path):
    proc = run_cli("ask", "--model", "gpt5-nonsense-model", Q1, cwd=tmp_path)
    assert proc.returncode == 2 and "provider" in proc.stderr
    _no_traceback(proc)


def test_no_model_chosen(tmp_path):
    proc = run_cli("ask", Q1, cwd=tmp_path)
    assert proc.returncode == 2 and "VIBEPLOT_MODEL" in proc.stderr


def test_model_from_env_and_config_file(tmp_path, sample):
    proc = run_cli("ask", Q1, cwd=tmp_path, env={"VIBEPLOT_MODEL": "reference"})
    assert proc.returncode == 0, proc.stderr
    config = tmp_path / "config.toml"
    config.write_text('model = "reference"\n')
    proc = run_cli("ask", "--out", "runs2", Q1, cwd=tmp_path, env={"VIBEPLOT_CONFIG": str(config)})
    assert proc.returncode == 0, proc.stderr
    assert read_manifest(only_run_dir(tmp_path / "runs2"))["model"] == "reference"


def test_bad_config_file_is_a_clear_error(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("model = \n")
    proc = run_cli("ask", Q1, cwd=tmp_path, env={"VIBEPLOT_CONFIG": str(config)})
    assert proc.returncode == 2 and "config file" in proc.stderr
    _no_traceback(proc)


def test_unknown_stack(tmp_path):
    proc = run_cli("ask", "--stack", "nope", "--model", "reference", Q1, cwd=tmp_path)
    assert proc.returncode == 2 and "unknown stack 'nope'" in proc.stderr and "uproot_opendata" in proc.stderr
    _no_traceback(proc)


def test_reference_refuses_unknown_questions(tmp_path):
    proc = run_cli("ask", "--model", "reference", "Plot the number of muons per event", cwd=tmp_path)
    assert proc.returncode == 2
    assert "reference oracle only answers known benchmark questions" in proc.stderr
    _no_traceback(proc)


def test_missing_dataset_file(tmp_path):
    proc = run_cli("ask", "-m", "reference", "--dataset", "nope.root", Q1, cwd=tmp_path)
    assert proc.returncode == 2 and "no dataset matches" in proc.stderr
    _no_traceback(proc)


def test_not_a_root_file(tmp_path):
    bad = tmp_path / "bad.root"
    bad.write_text("not root")
    proc = run_cli("ask", "-m", "reference", "--dataset", str(bad), Q1, cwd=tmp_path)
    assert proc.returncode == 2 and "cannot read" in proc.stderr
    _no_traceback(proc)


def test_bad_option_value_is_usage_error(tmp_path):
    proc = run_cli("ask", "--max-iterations", "0", "-m", "reference", Q1, cwd=tmp_path)
    assert proc.returncode == 2


def test_stacks_lists_builtin_and_third_party(tmp_path):
    proc = run_cli("stacks", cwd=tmp_path, env={"COLUMNS": "200"})
    assert proc.returncode == 0
    out = proc.stdout + proc.stderr
    assert "uproot_opendata" in out and "vibeplot 0.1.0" in out
    assert "toy" in out and "vibeplot-toy-stack 0.0.1" in out
    assert "awkward" in out and "hist_mplhep" in out


def test_hints_show_prints_the_exact_prompt(tmp_path, sample):
    proc = run_cli("hints", "show", "--stack", "uproot_opendata", Q1, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    for piece in ("## uproot", "## awkward 2", "## vector", "## hist + mplhep", "MET_pt", Q1, "DECLINE", "```python"):
        assert piece in text, piece
    assert str(sample) in text


def test_every_command_takes_the_stack_setting(tmp_path):
    """`hints show` and `compare` resolve ``stack`` like `ask`: option, VIBEPLOT_STACK, config file."""
    env = {"VIBEPLOT_STACK": "no-such-stack"}
    for args in (("hints", "show", Q1), ("compare", "-q", "adl-1", "-o", "cmp"),
                 ("ask", "-m", "reference", Q1)):
        proc = run_cli(*args, cwd=tmp_path, env=env)
        assert proc.returncode == 2 and "no-such-stack" in proc.stderr, (args, proc.stderr)
        _no_traceback(proc)
    config = tmp_path / "config.toml"
    config.write_text('stack = "no-such-stack"\n')
    proc = run_cli("hints", "show", Q1, cwd=tmp_path, env={"VIBEPLOT_CONFIG": str(config)})
    assert proc.returncode == 2 and "no-such-stack" in proc.stderr


def test_datasets_generate(tmp_path):
    proc = run_cli("datasets", "generate", "--events", "2000", "--out", "s.root", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "s.root").is_file() and "events/s" in proc.stdout


def test_datasets_generate_weighted(tmp_path, monkeypatch):
    """--weighted writes the weighted sample (by default the embedded one's events, in one file: its Σw)."""
    import uproot
    from click.testing import CliRunner

    from vibeplot.cli.main import cli
    from vibeplot.datasets import catalog, embedded

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["datasets", "generate", "--weighted", "--out", "w.root"])
    assert result.exit_code == 0, result.output
    total = catalog.entry(embedded.WEIGHTED_NAME)["sum_of_weights"]
    assert f"wrote {embedded.WEIGHTED_EVENTS} weighted events" in result.output
    assert f"sum of genWeight: {total!r}" in result.output
    assert uproot.open(tmp_path / "w.root")["Events"]["genWeight"].typename == "float"
    result = runner.invoke(cli, ["datasets", "generate", "--weighted", "-n", "500", "--seed", "3", "--out", "w3.root"])
    assert result.exit_code == 0 and uproot.open(tmp_path / "w3.root")["Events"].num_entries == 500
    assert f"{total!r}" not in result.output
    help_text = runner.invoke(cli, ["datasets", "generate", "--help"]).output
    assert f"the weighted sample's {embedded.WEIGHTED_EVENTS}" in " ".join(help_text.split())


def test_local_file_dataset_reaches_prompt(tmp_path, sample):
    proc = run_cli("hints", "show", "--dataset", str(sample), Q1, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Jet_btag" in proc.stdout and "local file" in proc.stdout


def test_ask_reference_q1_records_everything(tmp_path, sample):
    proc = run_cli("ask", "--model", "reference", Q1, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run = only_run_dir(tmp_path / "vibeplot-runs")
    manifest = read_manifest(run)
    assert manifest["outcome"] == "plot" and manifest["question_id"] == "adl-1"
    assert manifest["model"] == "reference" and manifest["stack"] == "uproot_opendata"
    assert manifest["dataset"]["name"] == "adl-sample"
    assert manifest["totals"] == {**manifest["totals"], "attempts": 1, "prompt_tokens": 0,
                                  "completion_tokens": 0, "cost_usd": 0.0}
    assert {"uproot", "awkward", "hist", "litellm", "vibeplot"} <= set(manifest["versions"])
    assert len(manifest["prompt_sha256"]) == 64
    assert (run / "met.png").is_file() and (run / "question.txt").read_text().strip() == Q1
    for name in ("prompt.md", "reply.md", "script.py", "stdout.txt", "stderr.txt", "met.png"):
        assert (run / "attempt-1" / name).is_file(), name
    assert str(run / "met.png") in proc.stdout


def test_declined_exit_code_is_1(tmp_path, sample):
    from vibeplot.testing.scripted_server import ScriptedServer

    with ScriptedServer(["DECLINE: not a plot request"]) as server:
        proc = run_cli("ask", "-m", "openai/gpt-4o-mini", "--api-base", server.url, "--no-cache",
                       "Tell me a joke", cwd=tmp_path)
    assert proc.returncode == 1 and "declined" in proc.stderr
    _no_traceback(proc)


def test_unreachable_model_server_is_a_clear_error(tmp_path, sample):
    import socket

    with socket.socket() as s:  # a free port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = run_cli("ask", "-m", "openai/gpt-4o-mini", "--api-base", f"http://127.0.0.1:{port}/v1", "--no-cache",
                   Q1, cwd=tmp_path)
    assert proc.returncode == 1 and "--api-base" in proc.stderr, proc.stderr
    assert f"at http://127.0.0.1:{port}/v1: connection refused, nothing listens there" in proc.stderr
    _no_traceback(proc)
    manifest = read_manifest(only_run_dir(tmp_path / "vibeplot-runs"))
    assert manifest["outcome"] == "error" and manifest["attempts"][0]["status"] == "model-error"


@pytest.mark.slow  # 7 s of backoff; the in-process retry cases (tests/test_hostile_replies.py) stay everyday
def test_server_errors_after_retries_end_with_exit_1(tmp_path, sample):
    from vibeplot.testing.scripted_server import ScriptedServer

    with ScriptedServer([{"status": 503, "message": "overloaded"}]) as server:
        proc = run_cli("ask", "-m", "openai/gpt-4o-mini", "--api-base", server.url, "--no-cache", Q1, cwd=tmp_path)
    assert proc.returncode == 1 and "failed after" in proc.stderr
    _no_traceback(proc)


def test_plugin_commands_are_added(tmp_path):
    proc = run_cli("toy-hello", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == "hello from the toy plugin"


def _mentioned_commands() -> list[tuple[str, str]]:
    """(file, text) of every ``vibeplot ...`` command line written in the README, the dataset catalog
    and the prompts and hints a model reads."""
    import re

    from conftest import ROOT

    files = [ROOT / "README.md", ROOT / "datasets" / "catalog.toml", *ROOT.glob("hints/*.md"),
             *ROOT.glob("stacks/*/prompt.md"), *ROOT.glob("stacks/*/hints/*.md")]
    found = []
    for path in files:
        for match in re.finditer(r"`?vibeplot ((?:[a-z][a-z-]* ?)+(?:--?[a-zA-Z][\w-]*[^`\n)]*)?)", path.read_text()):
            found.append((path.name, match.group(1).strip()))
    return found


def test_every_command_written_in_docs_and_notes_exists():
    """A command or option named in the README, the catalog notes or a prompt must exist (the sample's
    notes once said `vibeplot datasets --events`; the option belongs to `datasets generate`)."""
    import click

    from vibeplot.cli.main import cli

    mentioned = _mentioned_commands()
    assert len(mentioned) > 20, mentioned
    for where, line in mentioned:
        words = line.split()
        command, used = cli, []
        while words and isinstance(command, click.Group) and words[0] in command.commands:
            command = command.commands[words.pop(0)]
            used.append(command.name)
        if not used:
            continue  # prose such as "vibeplot runs ..." names no command
        options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
        for word in words:
            if word.startswith("-"):
                name = word.split("=")[0]
                assert name in options, f"{where}: `vibeplot {line}`: {' '.join(used)} has no option {name}"


_WITHOUT = """
import sys
BLOCKED = set(sys.argv[1].split(","))
class Block:  # as if these packages were not installed
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Block())
sys.argv = ["vibeplot", *sys.argv[2:]]
from vibeplot.cli.main import main
main()
"""


@pytest.mark.parametrize("blocked, args, extra", [
    ("pyarrow", ["compare", "-q", "adl-1", "-s", "uproot_opendata", "-o", "cmp"], "compare"),
    ("pyarrow", ["report", "."], "compare"),
    ("distributed", ["compare", "-q", "adl-1", "-s", "uproot_opendata", "-o", "runs", "--executor",
                     "dask://127.0.0.1:9"], "dask"),
], ids=["compare", "report", "dask"])
def test_a_missing_extra_is_one_line_naming_it(blocked, args, extra, tmp_path):
    import subprocess
    import sys

    (tmp_path / "compare.json").write_text("{}")
    proc = subprocess.run([sys.executable, "-c", _WITHOUT, blocked, *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    _no_traceback(proc)
    assert f"needs the '{extra}' extra (not installed: {blocked.replace(',', ', ')})" in proc.stderr
    assert f"pip install 'vibeplot[{extra}]'" in proc.stderr
    assert not (tmp_path / "runs").exists()  # stopped before any run directory or model call


def test_config_shows_each_setting_and_where_it_comes_from(tmp_path):
    config_file = tmp_path / "config.toml"
    config_file.write_text('max_iterations = 5\napi_key = "sk-CONFIG-SECRET"\nmodle = "typo"\n')
    proc = run_cli("config", cwd=tmp_path, env={"VIBEPLOT_CONFIG": str(config_file), "VIBEPLOT_STACK": "rdataframe"})
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line for line in proc.stdout.splitlines()}
    assert rows["stack"].split()[1:] == ["rdataframe", "VIBEPLOT_STACK"]
    assert rows["max_iterations"].split()[1] == "5" and str(config_file) in rows["max_iterations"]
    assert rows["out"].split()[1:] == ["vibeplot-runs", "default"]
    assert "sk-CONFIG-SECRET" not in proc.stdout + proc.stderr and "(set, not shown)" in rows["api_key"]
    assert "'modle'" in proc.stderr and "not a setting" in proc.stderr
    from vibeplot.core import config

    assert set(config.SETTINGS) <= set(rows)


def test_every_setting_is_in_the_readme_table():
    from conftest import ROOT

    from vibeplot.core import config

    readme = (ROOT / "README.md").read_text()
    for name in config.SETTINGS:
        assert f"| `{name}` | `VIBEPLOT_{name.upper()}` |" in readme, name


def test_doctor_says_which_extras_are_installed(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", _WITHOUT, "pyarrow", "doctor"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    extras = next(line for line in proc.stdout.splitlines() if line.startswith("extras:"))
    assert "parquet missing" in extras and "compare missing" in extras and "dask installed" in extras, extras
