"""Datasets on a server (``--dataset root://...`` / ``https://...``), against real servers on loopback.

* ``root://``: Debian's XRootD server (package ``xrootd-server``, which ``.ci/run`` installs; without
  it these tests are skipped with the reason), started here on a free port and allowed to accept
  connections from this host only (``xrd.allow host localhost``; it listens on every interface).
* ``https://``: a small HTTP/1.1 server of this file on 127.0.0.1 (single and multipart byte ranges,
  HEAD, absolute request targets as ROOT's TWebFile sends them) behind TLS with a self-signed
  certificate made here; ``SSL_CERT_FILE`` names it, so uproot (aiohttp) trusts it, in vibeplot and,
  through the sandbox, in the script.  ROOT's TWebFile does not check certificates at all.

Both serve a copy of the embedded sample under a path that exists nowhere on this machine, so a
script can only have read it through the server.  ``vibeplot ask --model reference`` on each URL, in
the uproot_opendata and rdataframe stacks (direct mode: ROOT reads the URL itself), runs in the
sandbox (with the network, as a remote dataset gets), validates ``correct`` (the truth values
recorded through the same URL), and draws exactly the histograms of the run on the local file.
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

from conftest import only_run_dir, read_manifest, run_cli
from vibeplot.core.questions import registry

#: the served file's name; no such file exists at this path on the machine
SERVED = "vibeplot-served-adl-sample.root"
HAVE_ROOT = importlib.util.find_spec("ROOT") is not None
#: ADL 5: MET of events with an opposite-charge muon pair of 60-120 GeV (jagged branches, a selection)
QUESTION = "adl-5"


# -- an HTTP server with byte ranges ----------------------------------------------------------

def byte_ranges(header: str, size: int) -> list[tuple[int, int]] | None:
    """The inclusive ranges of a ``Range: bytes=a-b, c-, -n`` header, or None if one cannot be served.

    >>> byte_ranges("bytes=0-3, 10-, -2", 12)
    [(0, 3), (10, 11), (10, 11)]
    >>> byte_ranges("bytes=20-30", 12) is None, byte_ranges("lines=1-2", 12) is None
    (True, True)
    """
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or size == 0:
        return None
    out = []
    for part in spec.split(","):
        first, dash, last = part.strip().partition("-")
        try:
            if not dash or (not first and not last):
                return None
            if not first:
                start, end = max(0, size - int(last)), size - 1
            else:
                start, end = int(first), min(int(last), size - 1) if last else size - 1
        except ValueError:
            return None
        if start >= size or end < start:
            return None
        out.append((start, end))
    return out


class RangeServer(http.server.ThreadingHTTPServer):
    """Serves one file, read-only, over HTTP/1.1 (optionally TLS); records (User-Agent, Range) of each
    ranged request."""

    daemon_threads = True

    def __init__(self, file: Path, tls: ssl.SSLContext | None = None):
        self.file, self.tls, self.ranges_asked = file, tls, []
        super().__init__(("127.0.0.1", 0), _RangeHandler)

    def get_request(self):
        conn, addr = super().get_request()
        if self.tls is not None:  # the handshake happens in the connection's own thread
            conn = self.tls.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        return conn, addr


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers answer

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self._serve(body=False)

    def do_GET(self):
        self._serve(body=True)

    def _reply(self, status: int, headers: dict, body: bytes, send: bool) -> None:
        self.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(key, value)
        self.end_headers()
        if send:
            self.wfile.write(body)

    def _serve(self, body: bool) -> None:
        server: RangeServer = self.server
        if urllib.parse.urlsplit(self.path).path.lstrip("/") != SERVED:  # TWebFile sends the whole URL
            self._reply(404, {}, b"", body)
            return
        data = server.file.read_bytes()
        asked = self.headers.get("Range")
        if asked is None:
            self._reply(200, {"Accept-Ranges": "bytes"}, data, body)
            return
        server.ranges_asked.append((self.headers.get("User-Agent", ""), asked))
        ranges = byte_ranges(asked, len(data))
        if ranges is None:
            self._reply(416, {"Content-Range": f"bytes */{len(data)}"}, b"", body)
        elif len(ranges) == 1:
            (start, end), = ranges
            self._reply(206, {"Content-Range": f"bytes {start}-{end}/{len(data)}"}, data[start:end + 1], body)
        else:
            boundary = "vibeplot-byteranges"
            parts = [f"--{boundary}\r\nContent-Type: application/octet-stream\r\n"
                     f"Content-Range: bytes {start}-{end}/{len(data)}\r\n\r\n".encode() + data[start:end + 1] + b"\r\n"
                     for start, end in ranges]
            self._reply(206, {"Content-Type": f"multipart/byteranges; boundary={boundary}"},
                        b"".join(parts) + f"--{boundary}--\r\n".encode(), body)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1 and localhost, valid for a day, made with ``cryptography``."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vibeplot test server")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "server.pem", folder / "server-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


# -- an XRootD server ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def start_xrootd(data: Path, admin: Path) -> tuple[subprocess.Popen, int]:
    """Debian's ``xrootd`` serving ``data`` (read-only export of ``/``) on a free port; run as nobody
    when started as root (xrootd refuses to run as root)."""
    exe = shutil.which("xrootd")
    config = admin / "xrootd.cfg"
    config.write_text(f"all.export / nolock\noss.localroot {data}\nall.adminpath {admin}\nall.pidpath {admin}\n"
                      "xrd.allow host localhost\n")
    as_user = ["-R", "nobody"] if os.geteuid() == 0 else []
    if as_user:
        os.chown(admin, pwd.getpwnam("nobody").pw_uid, -1)
    last_log = ""
    for _ in range(3):  # a port taken between choosing and binding it: try another
        port = free_port()
        log = admin / f"xrootd-{port}.log"
        proc = subprocess.Popen([exe, "-c", str(config), "-p", str(port), "-l", str(log), *as_user],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None and not _listening(port):
            time.sleep(0.1)
        if proc.poll() is None and _listening(port):
            return proc, port
        proc.kill()
        proc.wait()
        last_log = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise RuntimeError(f"xrootd did not start: {last_log}")


# -- fixtures -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(sample):
    """A world-readable folder (xrootd may run as nobody) holding a copy of the embedded sample."""
    folder = Path(tempfile.mkdtemp(prefix="vibeplot-served-"))
    folder.chmod(0o755)
    shutil.copyfile(sample, folder / SERVED)
    (folder / SERVED).chmod(0o444)
    yield folder / SERVED
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def xrootd_url(served, tmp_path_factory):
    if shutil.which("xrootd") is None:
        pytest.skip("no XRootD server: install Debian's xrootd-server (.ci/run does)")
    admin = Path(tempfile.mkdtemp(prefix="vibeplot-xrootd-"))
    proc, port = start_xrootd(served.parent, admin)
    try:
        yield f"root://127.0.0.1:{port}//{SERVED}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(admin, ignore_errors=True)


@pytest.fixture(scope="module")
def https_server(served, tmp_path_factory):
    """(server, URL, the certificate to trust) of :class:`RangeServer` behind TLS."""
    cert, key = self_signed_certificate(tmp_path_factory.mktemp("tls"))
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server = RangeServer(served, tls)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"https://127.0.0.1:{server.server_address[1]}/{SERVED}", cert
    finally:
        server.shutdown()
        server.server_close()


def histograms(run: Path) -> dict[str, list]:
    """Per plot: (edges, contents) of every histogram drawn, from the capture sidecars."""
    out = {}
    for png in read_manifest(run)["plots"]:
        sidecar = json.loads((run / f"{png}.json").read_text())
        out[png] = [(h["edges"], h["values"]) for ax in sidecar["axes"] for h in ax["histograms"]]
    return out


_runs: dict[tuple, tuple] = {}  # one run per (stack, dataset), shared by the tests


def ask_reference(stack: str, dataset: str, tmp_path_factory, env: dict | None = None):
    """``vibeplot ask --model reference`` for :data:`QUESTION` on ``dataset``: (process, run directory)."""
    key = (stack, dataset)
    if key not in _runs:
        cwd = tmp_path_factory.mktemp(f"remote-{stack}")
        proc = run_cli("ask", "--model", "reference", "--stack", stack, "--dataset", dataset,
                       registry()[QUESTION].text, cwd=cwd, env=env)
        _runs[key] = (proc, only_run_dir(cwd / "vibeplot-runs") if (cwd / "vibeplot-runs").exists() else None)
    return _runs[key]


# -- the tests ----------------------------------------------------------------------------------

STACKS = ["uproot_opendata", pytest.param("rdataframe", marks=pytest.mark.skipif(
    not HAVE_ROOT, reason="ROOT is not installed (the rdataframe extra)"))]


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["root", "https"])
@pytest.mark.parametrize("stack", STACKS)
def test_a_served_file_gives_the_local_files_histograms(stack, scheme, request, tmp_path_factory, served):
    from vibeplot.core.sandbox import isolation

    isolated = isolation.probe().available
    if stack == "rdataframe" and scheme == "root" and not isolated:
        pytest.skip("ROOT opens a root:// URL naming its own host as a local file; only the sandbox's own "
                    "host name sends it to the loopback server, and bubblewrap cannot isolate scripts here")
    if scheme == "root":
        url, env, server = request.getfixturevalue("xrootd_url"), None, None
    else:
        server, url, cert = request.getfixturevalue("https_server")
        env = {"SSL_CERT_FILE": str(cert)}
    proc, run = ask_reference(stack, url, tmp_path_factory, env)
    assert proc.returncode == 0, proc.stderr
    manifest = read_manifest(run)
    assert manifest["dataset"]["location"] == url and manifest["dataset"]["format"] == "root-file"
    assert manifest["dataset_resolution"]["why"] == "a file URL given with --dataset"
    assert manifest["isolation"] == ("bubblewrap" if isolated else "none")
    assert len(manifest["attempts"]) == 1 and manifest["verdict"] == {"status": "correct", "diagnosis": []}
    if server is not None:  # read in byte ranges (by ROOT itself in the rdataframe stack), never whole
        agents = {agent.split("/")[0] for agent, _ in server.ranges_asked}
        assert "ROOT-TWebFile" in agents if stack == "rdataframe" else agents
    local_proc, local_run = ask_reference(stack, str(served), tmp_path_factory)
    assert local_proc.returncode == 0, local_proc.stderr
    remote, local = histograms(run), histograms(local_run)
    assert remote == local and any(len(h) for h in local.values())


def test_a_url_dataset_is_described_from_the_server(xrootd_url, https_server):
    """The prompt's dataset section comes from the file on the server, read with uproot by vibeplot."""
    server, https_url, cert = https_server
    # In a fresh process: aiohttp builds its default TLS context once, when first imported, so
    # SSL_CERT_FILE must be set before that (as it is for the CLI, which a user starts with it set).
    probe = """
import json, sys
from vibeplot.core.resolver import ResolveContext, file_identity, pick
out = {}
for url in sys.argv[1:]:
    ds = pick(url, None, None, ResolveContext(stack="uproot_opendata")).dataset
    out[url] = [ds.name, ds.location, ds.format, ds.tree, ds.metadata, ds.description, ds.prompt_notes,
                str(file_identity(url))]
print(json.dumps(out))
"""
    proc = subprocess.run([sys.executable, "-c", probe, xrootd_url, https_url], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "SSL_CERT_FILE": str(cert)})
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    for url, (name, location, fmt, tree, metadata, description, notes, _) in found.items():
        assert (name, location, fmt, tree) == (SERVED, url, "root-file", "Events")
        assert metadata == {"given_as_url": True} and "100000 entries" in description
        assert "MET_pt (float)" in notes and "Muon_charge (int32_t[])" in notes
    assert found[xrootd_url][-1] == found[https_url][-1]  # one file, whichever way it is read


# as if fsspec-xrootd and the XRootD client were not installed (the default install)
_WITHOUT_XROOTD = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("fsspec_xrootd", "XRootD", "pyxrootd"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Block())
sys.argv = ["vibeplot", *sys.argv[1:]]
from vibeplot.cli.main import main
main()
"""


@pytest.mark.parametrize("dataset", ["root://127.0.0.1:9//data/events.root", "cms-adl-run2012b-singlemu"],
                         ids=["url", "catalog"])
def test_root_url_without_the_xrootd_extra_is_one_line_before_any_model_call(dataset, tmp_path):
    """Nothing listens at the model server or the URL: the run must stop before it reaches either."""
    proc = subprocess.run([sys.executable, "-c", _WITHOUT_XROOTD, "ask", "--model", "openai/gpt-5-mini",
                           "--api-base", "http://127.0.0.1:9/v1", "--dataset", dataset, "Plot the MET of all events"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "needs the 'xrootd' extra (not installed: fsspec_xrootd, XRootD)" in proc.stderr
    assert "pip install 'vibeplot[xrootd]'" in proc.stderr
    assert not (tmp_path / "vibeplot-runs").exists()


def test_a_script_with_the_network_can_read_the_ca_certificates_named(tmp_path, monkeypatch):
    """SSL_CERT_FILE reaches the script (environment allow-list); the file it names is put back
    read-only when the script has the network, even on the sandbox's private /tmp; a folder that
    holds a hidden home is never put back."""
    from vibeplot.core.sandbox.isolation import Grant, bwrap_argv

    bundle = tmp_path / "ca.pem"
    bundle.write_text("not read here")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.setenv("SSL_CERT_DIR", f"{Path.home()}{os.pathsep}/")

    def binds(network: bool) -> list[str]:
        argv = bwrap_argv(["true"], workdir=tmp_path, grant=Grant(network=network), tmp_mb=64)
        return [argv[i + 1] for i, arg in enumerate(argv) if arg == "--ro-bind"]

    assert str(bundle) in binds(True) and str(bundle) not in binds(False)
    assert str(Path.home().resolve()) not in binds(True) and binds(True).count("/") == 1  # the base "/ /" only
