"""A ServiceX-compatible REST backend on loopback, for the unmodified ``servicex`` client.

:class:`LocalBackend` serves, on ``http://127.0.0.1:PORT``, exactly the calls
the servicex 3.x client makes:

=======================================================  ===========================================
``GET  /servicex``                                       app-version, code-gen-image, capabilities
``POST /servicex/transformation``                        submit -> ``{"request_id"}``
``GET  /servicex/transformation``                        ``{"requests": [status, ...]}``
``GET  /servicex/transformation/{id}``                   the status document
``GET  /servicex/transformation/{id}/results``           ``{"results": [...]}`` (``later_than=ISO``)
``GET  /servicex/transformation/{id}/cancel``            cancel
``DELETE /servicex/transformation/{id}``                 forget a request and its bucket
``GET|DELETE /servicex/datasets[/{id}]``                 the datasets of the requests
=======================================================  ===========================================

Results are served from the same port through the part of the S3 API the
client uses (:mod:`.objectstore`), one bucket per request id, announced in the
status document (``minio-endpoint`` ``127.0.0.1:PORT``, ``minio-secured``
false, dummy keys).  Transforms run in a
thread pool (2 workers), one task per input file (see :mod:`.transforms`).

How failures reach the client
-----------------------------
* A query that cannot be translated: ``POST`` answers 400 ``Failed to
  generate translation code: ...``; the client raises ``ValueError("Invalid
  transform request: ...")``.
* Files that fail: each error is logged (ERROR, the transformer's message)
  and kept in the status document's ``failure-info``.  When every file
  failed the status is ``Fatal`` (the client raises ``ServiceXException:
  Fatal issue in ServiceX server for request "TITLE"``); when only some
  failed it is ``Complete`` with ``files-failed`` > 0 (the client logs
  ``Transform "TITLE" completed with failures``).  A ``did`` (``rucio://``
  ...) cannot be looked up locally: status ``Bad Dataset``, and the client
  raises ``... failed due to a dataset problem: Dataset does not exist``.
* In all three cases the status document's ``title`` (which the client
  quotes in those messages) carries the error: ``TITLE (error: MESSAGE)``.

A status request for an unfinished transform waits up to ``status_wait``
seconds (3.5) for it to finish, which lets a small ``deliver`` end in ~6 s
instead of ~10 s.  The client (3.3.1) sleeps a fixed 5 s between status polls,
and its result-listing loop sleeps 5 s *before* its first look, so ~5 s after
submitting is the earliest any deliver returns; the first status answer must
say ``Complete`` before then.  The wait stays below the client's 5 s HTTP read
timeout (httpx's default).

>>> backend = LocalBackend(log_path="sxlocal.log").start()   # doctest: +SKIP
>>> backend.url, backend.s3_endpoint                          # doctest: +SKIP
('http://127.0.0.1:40123', '127.0.0.1:40124')
>>> backend.stop()                                            # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import shutil
import sys
import tempfile
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qs, urlsplit

from vibeplot.core.errors import missing_modules
from vibeplot.core.servicex.local import transforms
from vibeplot.core.servicex.local.objectstore import ObjectStore

APP_VERSION = "vibeplot-sxlocal-1.0"
CAPABILITIES = ["poll_local_transformation_results", "long_sample_titles_10240"]
S3_ACCESS_KEY, S3_SECRET_KEY = "sxlocal", "sxlocal-secret"
ISO = "%Y-%m-%dT%H:%M:%S.%fZ"
DONE = ("Complete", "Fatal", "Canceled", "Bad Dataset")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text).strip()


@dataclass
class Request:
    """One transform request and its progress (guarded by ``lock``)."""

    request_id: str
    title: Optional[str]
    did: str
    did_id: int
    selection: str
    codegen: str
    result_format: str
    file_list: list[str]
    status: str = "Submitted"
    submit_time: datetime = field(default_factory=_now)
    finish_time: Optional[datetime] = None
    completed: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)
    futures: list = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def shown_title(self) -> Optional[str]:
        """The title, with the first error appended once the request ended in errors."""
        if not (self.errors and self.status in DONE):
            return self.title
        more = f" (+{len(self.errors) - 1} more errors)" if len(self.errors) > 1 else ""
        error = f"error: {_one_line(self.errors[0])}{more}"
        return f"{self.title} ({error})" if self.title else f"({error})"


class LocalBackend:
    """The HTTP API, the object store and the transform pool; ``start()`` / ``stop()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, log_path: Optional[str | Path] = None,
                 workers: int = 2, status_wait: float = 3.5, echo_stderr: bool = True):
        self.host, self.port = host, port
        self.log_path = Path(log_path).resolve() if log_path else None
        self.workers, self.status_wait = workers, status_wait
        self.requests: dict[str, Request] = {}
        self.datasets: dict[int, dict] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.log = logging.getLogger(f"vibeplot.sxlocal.{id(self):x}")
        self.log.setLevel(logging.INFO)
        self.log.propagate = False
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
        handlers: list[logging.Handler] = []
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            handlers.append(logging.FileHandler(self.log_path, encoding="utf-8"))
        if echo_stderr:
            handlers.append(logging.StreamHandler(sys.stderr))
        for handler in handlers:
            handler.setFormatter(formatter)
            self.log.addHandler(handler)
        self._httpd = self._thread = self._pool = None
        self.store = ObjectStore()
        self._workdir: Optional[Path] = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "LocalBackend":
        self._workdir = Path(tempfile.mkdtemp(prefix="sxlocal-"))
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="sxlocal-transform")
        self._httpd = ThreadingHTTPServer((self.host, self.port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="sxlocal-http", daemon=True)
        self._thread.start()
        host, port = self._httpd.server_address[:2]
        self.s3_endpoint = f"{host}:{port}"
        threading.Thread(target=_warm_up, name="sxlocal-warm-up", daemon=True).start()
        self.log.info("local ServiceX backend serving %s (S3 at %s, log %s)", self.url, self.s3_endpoint, self.log_path)
        return self

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop serving, cancel queued transforms, wait for running ones, delete the results."""
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join()
        if self._pool:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
        self.log.info("local ServiceX backend stopped")
        for handler in list(self.log.handlers):
            handler.close()
            self.log.removeHandler(handler)
        self._httpd = self._pool = self._workdir = None

    def __enter__(self) -> "LocalBackend":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ API
    def info(self) -> dict:
        return {"app-version": APP_VERSION, "code-gen-image": dict(transforms.CODEGENS),
                "capabilities": list(CAPABILITIES)}

    def status_doc(self, req: Request) -> dict:
        with req.lock:
            files = len(req.file_list)
            return {
                "request_id": req.request_id, "request-id": req.request_id,
                "title": req.shown_title(), "did": req.did, "did_id": req.did_id,
                "selection": req.selection, "tree-name": None,
                "image": transforms.CODEGENS.get(req.codegen, ""), "workers": self.workers,
                "result-destination": "object-store", "result-format": req.result_format,
                "generated-code-cm": f"{req.request_id}-generated-source",
                "status": req.status, "failure-info": "\n".join(req.errors) or None,
                "app-version": APP_VERSION, "code-gen-image": transforms.CODEGENS.get(req.codegen),
                "files": files, "files-completed": req.completed, "files-failed": req.failed,
                "files-remaining": files - req.completed - req.failed,
                "submit-time": req.submit_time.strftime(ISO),
                "finish-time": req.finish_time.strftime(ISO) if req.finish_time else None,
                "minio-endpoint": self.s3_endpoint, "minio-secured": False,
                "minio-access-key": S3_ACCESS_KEY, "minio-secret-key": S3_SECRET_KEY,
            }

    def submit(self, body: dict) -> tuple[int, dict, Optional[Request]]:
        """Validate and queue a request; returns (HTTP status, answer, request)."""
        codegen, fmt = body.get("codegen"), body.get("result-format", "root-file")
        did, files = body.get("did"), body.get("file-list") or []
        if codegen not in transforms.CODEGENS:
            return 500, {"message": f"Invalid Codegen Image Passed in Request: {codegen}"}, None
        if body.get("result-destination", "object-store") != "object-store":
            return 400, {"message": "The local backend only supports result-destination object-store"}, None
        if fmt not in transforms.RESULT_FORMATS:
            return 400, {"message": f"result-format must be one of {', '.join(transforms.RESULT_FORMATS)}, not {fmt}"}, None
        if fmt == "parquet" and missing_modules("pyarrow"):
            return 400, {"message": "result-format parquet needs pyarrow, which is not installed: "
                                    "pip install 'vibeplot[parquet]' (or ask for root-file results)"}, None
        if bool(did) == bool(files) or not isinstance(files, list):
            return 400, {"message": "Must provide did or file-list but not both"}, None
        try:
            runner = transforms.prepare(codegen, body.get("selection") or "")
        except transforms.CodegenError as error:
            return 400, {"message": str(error)}, None
        request_id = str(uuid.uuid4())
        name = did or ",".join(files)[:512]
        did_id = next(self._ids)
        req = Request(request_id=request_id, title=body.get("title"), did=name, did_id=did_id,
                      selection=body.get("selection") or "", codegen=codegen, result_format=fmt,
                      file_list=[] if did else list(dict.fromkeys(str(f) for f in files)))  # no duplicates
        self.store.create_bucket(request_id)
        with self._lock:
            self.requests[request_id] = req
            self.datasets[did_id] = self._dataset_doc(did_id, name, req.file_list, did)
        if did:
            self._finish_bad_dataset(req, did)
        else:
            with req.lock:
                req.status = "Running"
                req.futures = [self._pool.submit(self._transform_one, req, runner, path) for path in req.file_list]
        return 200, {"request_id": request_id}, req

    def _dataset_doc(self, did_id: int, name: str, files: list[str], did: Optional[str]) -> dict:
        now = _now().isoformat()
        scheme = did.split("://", 1)[0] if did and "://" in did else ("rucio" if did else "user")
        return {
            "id": did_id, "name": name, "did_finder": scheme, "n_files": len(files), "size": 0, "events": 0,
            "last_used": now, "last_updated": now, "is_stale": False,
            "lookup_status": "does_not_exist" if did else "complete",
            "files": [{"id": i, "adler32": None, "file_size": 0, "file_events": 0, "paths": p}
                      for i, p in enumerate(files, 1)],
        }

    def _finish_bad_dataset(self, req: Request, did: str) -> None:
        scheme = did.split("://", 1)[0] if "://" in did else "rucio"
        message = (f"the local ServiceX backend cannot look up the {scheme} dataset {did!r}: it only reads "
                   "local files; use dataset.FileList([...absolute paths...]), or a real ServiceX endpoint")
        self.log.error("request %s (%s) Bad Dataset: %s", req.request_id, req.title, message)
        self._finish(req, "Bad Dataset", [message])

    def _finish(self, req: Request, status: str, errors: list[str] = ()) -> None:
        with req.lock:
            req.errors.extend(errors)
            req.status, req.finish_time = status, _now()
        req.done.set()

    def _transform_one(self, req: Request, runner, path: str) -> None:
        if req.status == "Canceled":
            return
        key = transforms.object_name(path, req.result_format)
        out = self._workdir / req.request_id / key
        out.parent.mkdir(parents=True, exist_ok=True)
        started = _now()
        try:
            events, size = transforms.transform_file(runner, path, out, req.result_format)
            self.store.put(req.request_id, key, out)
        except Exception as error:  # TransformError, or the request was deleted meanwhile
            out.unlink(missing_ok=True)
            message = str(error)
            self.log.error("request %s (%s) file %s: transform FAILED: %s", req.request_id, req.title, path, message)
            events, size, outcome = 0, 0, "failure"
        else:
            message, outcome = None, "success"
            self.log.info("request %s (%s) file %s: %d events, %d bytes -> s3://%s/%s",
                          req.request_id, req.title, path, events, size, req.request_id, key)
        seconds = (_now() - started).total_seconds()
        with req.lock:
            req.results.append({
                "id": len(req.results) + 1, "request_id": req.request_id, "file-path": path,
                "s3-object-name": key, "transform_status": outcome, "transform_time": round(seconds, 3),
                "total-events": events, "total-bytes": size, "avg-rate": round(events / seconds, 1) if seconds else 0,
                "created_at": _now().replace(tzinfo=None).isoformat(),
            })
            if message is None:
                req.completed += 1
            else:
                req.failed += 1
                req.errors.append(message)
            finished = req.completed + req.failed == len(req.file_list)
        if finished and req.status != "Canceled":
            status = "Fatal" if req.failed == len(req.file_list) else "Complete"
            self._finish(req, status)
            self.log.log(logging.ERROR if req.failed else logging.INFO, "request %s (%s) %s: %d/%d files ok, %d failed",
                         req.request_id, req.title, status, req.completed, len(req.file_list), req.failed)

    def results(self, req: Request, later_than: Optional[str]) -> tuple[int, dict]:
        threshold = None
        if later_than:
            try:
                threshold = datetime.fromisoformat(later_than.replace("Z", "+00:00"))
            except ValueError:
                return 400, {"message": f"later_than value {later_than} is not an ISO 8601 compliant datetime"}
            if threshold.tzinfo is not None:
                threshold = threshold.astimezone(timezone.utc).replace(tzinfo=None)
        with req.lock:
            rows = [r for r in req.results
                    if threshold is None or datetime.fromisoformat(r["created_at"]) > threshold]
        return 200, {"results": rows}

    def cancel(self, req: Request) -> None:
        with req.lock:
            if req.status in DONE:
                return
            req.status = "Canceled"
            futures = list(req.futures)
        for future in futures:
            future.cancel()
        self._finish(req, "Canceled")

    def delete(self, req: Request) -> None:
        self.cancel(req)
        self.store.delete_bucket(req.request_id)
        with self._lock:
            self.requests.pop(req.request_id, None)


def _warm_up() -> None:
    """Import the transformers' libraries ahead of the first request (~2-4 s cold)."""
    import importlib

    for name in ("awkward", "uproot", "pyarrow.parquet", "dask_awkward", "vector", "func_adl_uproot"):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 — the transform will report it
            pass


def _make_handler(backend: LocalBackend):
    class Handler(BaseHTTPRequestHandler):
        server_version = "vibeplot-sxlocal"

        def log_message(self, *args):  # the backend's own log line replaces this
            pass

        def _answer(self, code: int, doc, note: str = "", req: Optional[Request] = None) -> None:
            body = json.dumps(doc, default=str).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            parts = [f"{self.command} {self.path} -> {code}"]
            if req is not None:
                parts += [f"request_id={req.request_id}", f"codegen={req.codegen}", f"status={req.status}"]
            if note:
                parts.append(note)
            backend.log.log(logging.WARNING if code >= 400 else logging.INFO, " ".join(parts))

        def _body(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            data = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(data, dict):
                raise ValueError("the body is not a JSON object")
            return data

        def _route(self, method: str) -> None:
            url = urlsplit(self.path)
            parts = [p for p in url.path.split("/") if p]
            query = parse_qs(url.query)
            try:
                self._dispatch(method, parts, query)
            except Exception as error:  # noqa: BLE001 — keep serving, say what went wrong
                backend.log.exception("%s %s: internal error", method, self.path)
                self._answer(500, {"message": f"Something went wrong ({error})"})

        def _lookup(self, request_id: str) -> Optional[Request]:
            req = backend.requests.get(request_id)
            if req is None:
                self._answer(404, {"message": f"Transformation request not found with id: {request_id}"})
            return req

        def _dispatch(self, method: str, parts: list[str], query: dict) -> None:
            if parts[:1] != ["servicex"]:  # the results, through the S3 API (bucket = request id)
                if method not in ("GET", "HEAD"):
                    return self._answer(405, {"message": f"{method} is not served for {self.path}"})
                code = backend.store.respond(self, method, urlsplit(self.path).path, query)
                level = logging.WARNING if code >= 400 else logging.DEBUG
                return backend.log.log(level, "S3 %s %s -> %d", method, self.path, code)
            if method == "HEAD":
                return self._answer(405, {"message": f"HEAD is not served for {self.path}"})
            rest = parts[1:]
            if method == "GET" and not rest:
                return self._answer(200, backend.info())
            if rest[:1] == ["transformation"]:
                return self._transformation(method, rest[1:], query)
            if rest[:1] == ["datasets"]:
                return self._datasets(method, rest[1:])
            return self._answer(404, {"message": f"Not found: {self.path}"})

        def _transformation(self, method: str, rest: list[str], query: dict) -> None:
            if not rest and method == "POST":
                try:
                    body = self._body()
                except ValueError as error:
                    return self._answer(400, {"message": f"The json request was malformed: {error}"})
                code, doc, req = backend.submit(body)
                note = f"title={body.get('title')!r} files={len(body.get('file-list') or [])} did={body.get('did')!r}"
                if code != 200:
                    note += f" codegen={body.get('codegen')} rejected: {doc['message']}"
                return self._answer(code, doc, note, req)
            if not rest and method == "GET":
                return self._answer(200, {"requests": [backend.status_doc(r) for r in list(backend.requests.values())]})
            req = self._lookup(rest[0]) if rest else None
            if req is None:
                return None
            if len(rest) == 1 and method == "GET":
                if backend.status_wait > 0:
                    req.done.wait(backend.status_wait)
                doc = backend.status_doc(req)
                note = f"files={doc['files']} completed={doc['files-completed']} failed={doc['files-failed']}"
                return self._answer(200, doc, note, req)
            if len(rest) == 1 and method == "DELETE":
                backend.delete(req)
                return self._answer(200, {"message": f"Transform {req.request_id} deleted"}, "deleted", req)
            if rest[1:] == ["results"] and method == "GET":
                code, doc = backend.results(req, (query.get("later_than") or [None])[0])
                return self._answer(code, doc, f"results={len(doc.get('results', []))}", req)
            if rest[1:] == ["cancel"] and method == "GET":
                backend.cancel(req)
                return self._answer(200, {"message": f"Transform {req.request_id} canceled"}, "canceled", req)
            return self._answer(404, {"message": f"Not found: {self.path}"})

        def _datasets(self, method: str, rest: list[str]) -> None:
            if not rest and method == "GET":
                return self._answer(200, {"datasets": list(backend.datasets.values())})
            doc = backend.datasets.get(int(rest[0])) if rest and rest[0].isdigit() else None
            if doc is None:
                return self._answer(404, {"message": f"Dataset {rest[0] if rest else ''} not found"})
            if method == "DELETE":
                return self._answer(200, {"dataset-id": doc["id"], "stale": True})
            return self._answer(200, doc)

        def do_GET(self):
            self._route("GET")

        def do_HEAD(self):
            self._route("HEAD")

        def do_POST(self):
            self._route("POST")

        def do_DELETE(self):
            self._route("DELETE")

    return Handler


__all__ = ["APP_VERSION", "CAPABILITIES", "LocalBackend", "Request"]
