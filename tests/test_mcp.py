"""``vibeplot mcp`` end to end, through the MCP SDK's own client over stdio.

One server for the module (``vibeplot mcp`` started as a user's agent starts it): list the tools,
resolve a phrase, read a prompt, run a reference script in the sandbox and get its PNG back as an
image, validate the run ``correct``; a script that raises, and bad input.  Then, without the SDK's
client: a server's raw stdout holds nothing but JSON-RPC, and the message of a missing extra.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import threading
from pathlib import Path

import pytest

from conftest import read_manifest, run_cli

mcp = pytest.importorskip("mcp", reason="the 'mcp' extra (uv sync --all-extras)")
from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TOOLS = {"list_stacks", "list_questions", "resolve_dataset", "get_prompt", "run_code", "validate", "ask"}


class Client:
    """The SDK's ClientSession, held open in a thread's event loop for the whole module."""

    def __init__(self, params: StdioServerParameters, errlog):
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.failed: BaseException | None = None
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._serve(params, errlog),),
                                       daemon=True)
        self.thread.start()
        if not self.ready.wait(60) or self.failed:
            raise RuntimeError(f"the MCP session did not start: {self.failed!r}")

    async def _serve(self, params, errlog):
        self.stop = asyncio.Event()
        try:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write) as session:
                    self.init = await session.initialize()
                    self.session = session
                    self.ready.set()
                    await self.stop.wait()
        except BaseException as err:  # reported by __init__
            self.failed = err
            self.ready.set()

    def run(self, coro, timeout: float = 240):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, name: str, progress=None, **arguments):
        return self.run(self.session.call_tool(name, arguments, progress_callback=progress))

    def close(self):
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)
        if not self.thread.is_alive():
            self.loop.close()


@pytest.fixture(scope="module")
def server(sample, tmp_path_factory):
    out = tmp_path_factory.mktemp("mcp-runs")
    errlog = open(out.parent / "mcp-server-stderr.txt", "w+")
    exe = Path(sys.executable).with_name("vibeplot")
    params = StdioServerParameters(command=str(exe), args=["mcp", "--out", str(out), "--timeout", "120"],
                                   env=dict(os.environ), cwd=str(out.parent))
    client = Client(params, errlog)
    client.out, client.errlog = out, errlog
    yield client
    client.close()
    errlog.close()


def _text(result) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")


def test_tools_are_listed_with_schemas(server):
    assert server.init.server_info.name == "vibeplot"
    tools = {t.name: t for t in server.run(server.session.list_tools()).tools}
    assert set(tools) == TOOLS
    assert tools["run_code"].input_schema["required"] == ["code"]
    assert {"ok", "stderr_tail", "advice", "histograms", "run_dir"} <= set(tools["run_code"].output_schema["properties"])
    assert "status" in tools["validate"].output_schema["properties"]
    assert tools["resolve_dataset"].annotations.read_only_hint and not tools["run_code"].annotations.read_only_hint


def test_list_stacks_and_questions(server):
    stacks = server.call("list_stacks").structured_content["result"]
    names = {s["name"] for s in stacks}
    assert {"uproot_opendata", "servicex_awkward"} <= names
    assert [s["name"] for s in stacks if s["default"]] == ["uproot_opendata"]
    questions = server.call("list_questions", spec="adl").structured_content["result"]
    adl1 = next(q for q in questions if q["id"] == "adl-1")
    assert "missing transverse energy" in adl1["text"] and "uproot_opendata" in adl1["references"]


def test_resolve_semileptonic_ttbar(server):
    got = server.call("resolve_dataset", phrase="semileptonic ttbar")
    assert not got.is_error, _text(got)
    res = got.structured_content
    assert res["status"] == "resolved", res
    ds = res["dataset"]
    assert ds["name"] == "mc23-ttbar-semileptonic" and ds["format"] == "physlite", ds
    assert ds["metadata"]["kind"] == "simulation" and "single-lepton" in ds["metadata"]["process"]
    assert ds["metadata"]["did"] == ds["location"] and res["why"].startswith("exact match")
    assert res["candidates"][0]["name"] == ds["name"] and res["candidates"][0]["score"] >= 0.85
    # the same answer as the CLI's `datasets resolve`
    cli = run_cli("datasets", "resolve", "--json", "semileptonic", "ttbar", cwd=server.out)
    assert cli.returncode == 0 and f'"name": "{ds["name"]}"' in cli.stdout


def test_get_prompt_is_what_hints_show_prints(server):
    got = server.call("get_prompt", question="adl-1", stack="uproot_opendata")
    assert not got.is_error, _text(got)
    info = got.structured_content
    assert info["question_id"] == "adl-1" and info["dataset"] == "adl-sample"
    shown = run_cli("hints", "show", "--stack", "uproot_opendata", "adl-1", cwd=server.out)
    assert shown.returncode == 0, shown.stderr
    assert info["text"] == shown.stdout == _text(got)
    assert [m["role"] for m in info["messages"]] == ["system", "user"]
    # a question about two samples: a dataset section each, as `hints show` prints them
    several = server.call("get_prompt", question="met-stack").structured_content
    shown = run_cli("hints", "show", "met-stack", cwd=server.out)
    assert len(several["datasets"]) == 2 and several["text"] == shown.stdout, shown.stderr


def test_bad_input_is_a_clear_tool_error(server):
    got = server.call("get_prompt", question="adl-1", stack="no_such_stack")
    assert got.is_error
    assert "unknown stack 'no_such_stack'" in _text(got) and "uproot_opendata" in _text(got)
    assert "Traceback" not in _text(got)
    got = server.call("validate", run=str(server.out / "nope"))
    assert got.is_error and "no run" in _text(got)
    got = server.call("validate", question="adl-1")
    assert got.is_error and "either run" in _text(got)
    got = server.call("validate", question="plot the colour of the sky", histograms=[])
    assert got.is_error and "no benchmark question matches" in _text(got)
    got = server.call("validate", question="adl-1", histograms=[{"image": "x.png", "axes": ["not an axes"]}])
    assert got.is_error and "not in the form run_code returns" in _text(got), _text(got)
    got = server.call("resolve_dataset", phrase="zzz qqq nonexistent")
    assert not got.is_error and got.structured_content["status"] == "unknown"
    got = server.call("run_code")  # the code is required: the SDK's argument check
    assert got.is_error and "code" in _text(got)


@pytest.mark.slow  # two sandboxed runs (the script, the truth reference): about 11 s on a quiet machine
def test_run_reference_get_png_and_validate(server, sample):
    from vibeplot.core import plugins

    code = plugins.get_stack("uproot_opendata").reference_solution("adl-1").replace("{{dataset}}", str(sample))
    got = server.call("run_code", code=code, stack="uproot_opendata", question="adl-1")
    assert not got.is_error, _text(got)
    info = got.structured_content
    assert info["ok"] and info["status"] == "ok" and info["returncode"] == 0, info
    assert info["plots"] == ["met.png"] and info["verdict"]["status"] == "correct", info
    images = [c for c in got.content if c.type == "image"]
    assert len(images) == 1 and images[0].mime_type == "image/png"
    run_dir = Path(info["run_dir"])
    assert base64.b64decode(images[0].data) == (run_dir / "met.png").read_bytes()
    assert base64.b64decode(images[0].data).startswith(PNG_MAGIC)
    drawn = info["histograms"][0]["axes"][0]["histograms"][0]
    assert len(drawn["edges"]) == 51 and sum(drawn["values"]) > 0
    assert "entries:" in info["stdout_tail"]
    assert run_dir.parent == server.out and (run_dir / "attempt-1" / "script.py").read_text() == code
    manifest = read_manifest(run_dir)
    assert manifest["outcome"] == "plot" and manifest["isolation"] == info["isolation"]
    server.errlog.seek(0)
    assert "vibeplot mcp: running a script" in server.errlog.read()  # progress on stderr, never stdout

    # validate the run by its directory, and its histograms alone
    checked = server.call("validate", run=info["run_dir"])
    assert not checked.is_error, _text(checked)
    assert checked.structured_content["status"] == "correct"
    assert read_manifest(run_dir)["verdict"]["status"] == "correct"
    by_values = server.call("validate", question="adl-1", histograms=info["histograms"])
    assert by_values.structured_content["status"] == "correct", by_values.structured_content
    # the same histograms with every bin doubled: wrong, with a diagnosis
    doubled = json.loads(json.dumps(info["histograms"]))
    drawn = doubled[0]["axes"][0]["histograms"][0]
    drawn["values"] = [2 * v for v in drawn["values"]]
    other = server.call("validate", question="adl-1", histograms=doubled).structured_content
    assert other["status"] == "wrong" and other["diagnosis"], other


def test_failing_script_returns_tails_and_advice(server, sample):
    code = ("import uproot\nimport matplotlib.pyplot as plt\n"
            f"events = uproot.open({str(sample)!r})['Events'].arrays(['MET_ptx'])\n"
            "plt.hist(events.MET_ptx)\nplt.savefig('met.png')\n")
    got = server.call("run_code", code=code)
    assert not got.is_error, _text(got)
    info = got.structured_content
    assert not info["ok"] and info["returncode"] == 1 and info["status"] == "exit code 1"
    assert "KeyInFileError" in info["stderr_tail"] and "MET_ptx" in info["stderr_tail"]
    assert any("MET_ptx" in line for line in info["advice"]), info["advice"]
    assert info["plots"] == [] and not [c for c in got.content if c.type == "image"]
    assert read_manifest(Path(info["run_dir"]))["attempts"][0]["status"] == "failed"
    # a script the static checks refuse is not run
    refused = server.call("run_code", code="import matplotlib.pyplot as plt\nplt.plot([1])\nplt.show()\n")
    assert refused.structured_content["policy_problems"] and refused.structured_content["returncode"] is None


@pytest.mark.slow  # the loop, then the truth reference: 6-11 s here
def test_ask_with_the_reference_model(server):
    heard = []

    async def progress(done, total, message):
        heard.append(message)

    got = server.call("ask", question="Plot the missing ET of all events", model="reference", progress=progress)
    assert not got.is_error, _text(got)
    info = got.structured_content
    assert info["outcome"] == "plot" and info["question_id"] == "adl-1" and info["verdict"]["status"] == "correct"
    assert info["attempts"] == [{"n": 1, "status": "plot", "detail": ""}] and "uproot.open" in info["script"]
    assert [c.mime_type for c in got.content if c.type == "image"] == ["image/png"]
    assert "attempt 1/3: running the script" in heard, heard  # the loop's progress, as MCP notifications


def test_missing_extra_names_it(tmp_path):
    """Without the SDK: one line naming the extra, exit code 2 (the mcp module hidden from the child)."""
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(
        "import sys\nclass _Hide:\n    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'mcp' or name.startswith('mcp.'):\n            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, _Hide())\n")
    path = os.pathsep.join(p for p in (str(hide), os.environ.get("PYTHONPATH", "")) if p)
    done = run_cli("mcp", cwd=tmp_path, env={"PYTHONPATH": path})
    assert done.returncode == 2, done.stderr
    assert "needs the 'mcp' extra" in done.stderr and "pip install 'vibeplot[mcp]'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.timeout(180)
def test_stdout_carries_only_the_protocol(tmp_path):
    """Raw stdio, no SDK client: every line the server writes to stdout is a JSON-RPC message, also when
    vibeplot prints (the warning of scripts run without isolation); vibeplot's lines go to stderr."""
    import json
    import subprocess

    from mcp_types.version import LATEST_HANDSHAKE_VERSION

    exe = Path(sys.executable).with_name("vibeplot")
    proc = subprocess.Popen([str(exe), "mcp", "--out", str(tmp_path / "runs"), "--isolation", "none"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    lines: list[bytes] = []

    def send(message: dict):
        proc.stdin.write(json.dumps({"jsonrpc": "2.0", **message}).encode() + b"\n")
        proc.stdin.flush()

    def reply(n: int) -> dict:
        while line := proc.stdout.readline():
            lines.append(line)
            if json.loads(line).get("id") == n:
                return json.loads(line)
        raise AssertionError(f"no reply {n}: {proc.stderr.read().decode()}")

    try:
        send({"id": 1, "method": "initialize", "params": {"protocolVersion": LATEST_HANDSHAKE_VERSION, "capabilities": {},
                                                          "clientInfo": {"name": "raw", "version": "0"}}})
        assert reply(1)["result"]["serverInfo"]["name"] == "vibeplot"
        send({"method": "notifications/initialized"})
        refused = "import matplotlib.pyplot as plt\nplt.plot([1])\nplt.show()\n"  # refused before it runs
        send({"id": 2, "method": "tools/call", "params": {"name": "run_code", "arguments": {"code": refused}}})
        result = reply(2)["result"]["structuredContent"]
    finally:
        proc.stdin.close()
        lines += proc.stdout.read().splitlines(keepends=True)
        stderr = proc.stderr.read().decode()
        proc.wait(30)
    assert result["policy_problems"] and any("WITHOUT isolation" in w for w in result["warnings"])
    assert "WITHOUT isolation" in stderr
    assert all(json.loads(line)["jsonrpc"] == "2.0" for line in lines), lines
