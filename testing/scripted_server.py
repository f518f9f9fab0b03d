"""A scripted OpenAI-compatible chat server on 127.0.0.1 — for tests and benchmarks.

It is not a model: it answers ``POST /v1/chat/completions`` with replies
given in advance, in order, and reports deterministic token usage (whitespace
separated words of the request's messages and of the reply), so that
litellm's real HTTP path, usage accounting and cost calculation are exercised.

A script entry is a reply text, a callable ``messages -> text`` (or
``(messages, request) -> text``, to answer by ``request["model"]``), or a dict
for faulty servers:

* ``{"status": 429, "message": "..."}``: an HTTP error;
* ``{"reply": TEXT, "usage": False}``: a reply without the ``usage`` field;
* ``{"hang": True}``: accept the request and never answer (until the server stops);
* ``{"raw": "...", "status": 200}``: this body verbatim (e.g. not JSON).

When the script runs out, the last entry repeats.  ``server.requests`` holds
the request bodies and ``server.headers`` their HTTP headers (lower-case names).

>>> with ScriptedServer(["```python\\nprint(1)\\n```"]) as server:    # doctest: +SKIP
...     llm.complete("openai/gpt-4o-mini", msgs, api_base=server.url)

Run by hand: ``python -m vibeplot.testing.scripted_server REPLY.md [REPLY.md ...]``.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Union

Entry = Union[str, Callable[[list], str], dict]


def _arity(fn: Callable) -> int:
    import inspect

    try:
        return len([p for p in inspect.signature(fn).parameters.values()
                    if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)])
    except (TypeError, ValueError):
        return 1


def count_words(messages: list[dict]) -> int:
    return sum(len(str(m.get("content", "")).split()) for m in messages)


class ScriptedServer:
    def __init__(self, script: list[Entry], *, latency: float = 0.0, host: str = "127.0.0.1", port: int = 0):
        self.script = list(script)
        self.latency = latency
        self.requests: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._next = 0
        self._httpd = ThreadingHTTPServer((host, port), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def _take(self) -> Entry:
        with self._lock:
            entry = self.script[min(self._next, len(self.script) - 1)]
            self._next += 1
            return entry

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                request = json.loads(self.rfile.read(length) or b"{}")
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                with server._lock:
                    server.requests.append(request)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                entry = server._take()
                if server.latency:
                    time.sleep(server.latency)
                usage = True
                if isinstance(entry, dict) and entry.get("hang"):
                    server._stopped.wait()  # the connection stays open, silent
                    return
                if isinstance(entry, dict) and "raw" in entry:
                    data = str(entry["raw"]).encode("utf-8", "surrogatepass")
                    self.send_response(int(entry.get("status", 200)))
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if isinstance(entry, dict) and "reply" in entry:
                    usage = entry.get("usage", True)
                    entry = entry["reply"]
                if isinstance(entry, dict):
                    status = int(entry.get("status", 500))
                    self._send(status, {"error": {"message": entry.get("message", "scripted error"),
                                                  "type": "scripted", "code": status}})
                    return
                messages = request.get("messages", [])
                text = entry if not callable(entry) else (
                    entry(messages, request) if _arity(entry) >= 2 else entry(messages))
                prompt_tokens = count_words(messages)
                completion_tokens = len(text.split())
                body = {
                    "id": f"chatcmpl-scripted-{len(server.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": request.get("model", "scripted"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                              "total_tokens": prompt_tokens + completion_tokens},
                }
                if not usage:
                    del body["usage"]
                self._send(200, body)

        return Handler

    def start(self) -> "ScriptedServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()  # releases hanging requests
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "ScriptedServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str]) -> None:
    replies = [open(path, encoding="utf-8").read() for path in argv]
    if not replies:
        sys.exit("usage: python -m vibeplot.testing.scripted_server REPLY.md [REPLY.md ...]")
    server = ScriptedServer(replies).start()
    print(f"serving {len(replies)} scripted replies at {server.url} (Ctrl-C stops)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
