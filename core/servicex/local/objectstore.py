"""The local backend's results, served read-only through the part of the S3 API the servicex client uses.

The servicex client fetches results with aioboto3 from the ``minio-endpoint`` that the
status document names.  The local backend answers those calls itself, on its own port,
from the files its transforms wrote (no S3 server to install or start):

==================================================  ==============================================
``GET  /{bucket}?list-type=2``                      ListObjectsV2 (``prefix``, ``max-keys``,
                                                    ``continuation-token``, ``encoding-type=url``)
``HEAD /{bucket}/{key}``                            size, ETag (MD5), Last-Modified
``GET  /{bucket}/{key}``                            the object; one ``Range: bytes=...`` gives 206
==================================================  ==============================================

Requests are not authenticated (the endpoint listens on 127.0.0.1 and holds only
transform outputs); a presigned URL's query string is ignored.  Buckets and keys are
looked up in memory, never joined onto a path, so no request can reach another file.
A request with several ranges gets the whole object (200), which HTTP allows and
uproot's HTTP source handles by falling back to single ranges.

>>> store = ObjectStore()
>>> store.create_bucket("b1")
>>> print(store.listing("b1", {}))  # doctest: +ELLIPSIS
<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b1</Name>...<KeyCount>0</KeyCount>...
>>> parse_range("bytes=10-19", 100), parse_range("bytes=-5", 100), parse_range("bytes=90-", 100)
((10, 19), (95, 99), (90, 99))
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Optional
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
MAX_KEYS = 1000


@dataclass(frozen=True)
class StoredObject:
    path: Path
    size: int
    etag: str
    mtime: float


class ObjectStore:
    """Buckets of files that transforms wrote; ``respond`` answers one HTTP request for them."""

    def __init__(self) -> None:
        self._buckets: dict[str, dict[str, StoredObject]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ the backend's side
    def create_bucket(self, bucket: str) -> None:
        with self._lock:
            self._buckets.setdefault(bucket, {})

    def put(self, bucket: str, key: str, path: Path) -> StoredObject:
        """Publish ``path`` (a finished output file, left in place) as ``bucket``/``key``."""
        digest = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        stat = path.stat()
        stored = StoredObject(path=path, size=stat.st_size, etag=f'"{digest.hexdigest()}"', mtime=stat.st_mtime)
        with self._lock:
            if bucket not in self._buckets:
                raise KeyError(f"no bucket {bucket}")
            self._buckets[bucket][key] = stored
        return stored

    def delete_bucket(self, bucket: str) -> None:
        """Forget the bucket and delete its files."""
        with self._lock:
            objects = self._buckets.pop(bucket, {})
        for stored in objects.values():
            stored.path.unlink(missing_ok=True)

    def keys(self, bucket: str) -> list[str]:
        with self._lock:
            return sorted(self._buckets.get(bucket, {}))

    # ------------------------------------------------------------------ the S3 side
    def listing(self, bucket: str, query: dict[str, list[str]]) -> str:
        """The ListObjectsV2 document for ``bucket`` (which must exist)."""
        first = lambda name, default="": (query.get(name) or [default])[0]  # noqa: E731
        prefix, token = first("prefix"), first("continuation-token") or first("start-after")
        url_encoded = first("encoding-type") == "url"
        try:
            max_keys = max(0, min(MAX_KEYS, int(first("max-keys", str(MAX_KEYS)))))
        except ValueError:
            max_keys = MAX_KEYS
        with self._lock:
            objects = dict(self._buckets[bucket])
        keys = [k for k in sorted(objects) if k.startswith(prefix) and (not token or k > token)]
        page, truncated = keys[:max_keys], len(keys) > max_keys
        shown = (lambda k: quote(k, safe="/")) if url_encoded else (lambda k: k)  # noqa: E731
        parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="{S3_NS}">',
                 f"<Name>{escape(bucket)}</Name><Prefix>{escape(shown(prefix))}</Prefix>",
                 f"<KeyCount>{len(page)}</KeyCount><MaxKeys>{max_keys}</MaxKeys>",
                 f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"]
        if url_encoded:
            parts.append("<EncodingType>url</EncodingType>")
        if first("continuation-token"):
            parts.append(f"<ContinuationToken>{escape(first('continuation-token'))}</ContinuationToken>")
        if truncated:
            parts.append(f"<NextContinuationToken>{escape(page[-1])}</NextContinuationToken>")
        for key in page:
            obj = objects[key]
            parts.append(f"<Contents><Key>{escape(shown(key))}</Key>"
                         f"<LastModified>{_iso(obj.mtime)}</LastModified><ETag>{escape(obj.etag)}</ETag>"
                         f"<Size>{obj.size}</Size><StorageClass>STANDARD</StorageClass></Contents>")
        parts.append("</ListBucketResult>")
        return "".join(parts)

    def respond(self, handler, method: str, path: str, query: dict[str, list[str]]) -> int:
        """Answer one S3 request on ``handler`` (a ``BaseHTTPRequestHandler``); returns the status."""
        bucket, _, key = path.lstrip("/").partition("/")
        bucket, key = unquote(bucket), unquote(key)
        with self._lock:
            objects = self._buckets.get(bucket)
            stored = objects.get(key) if objects is not None and key else None
        if objects is None:
            return _error(handler, method, 404, "NoSuchBucket", f"The specified bucket does not exist: {bucket}")
        if not key:
            if method != "GET" or (query.get("list-type") or [""])[0] != "2":
                return _error(handler, method, 501, "NotImplemented", "only ListObjectsV2 (list-type=2) is served")
            body = self.listing(bucket, query).encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "application/xml")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return 200
        if stored is None:
            return _error(handler, method, 404, "NoSuchKey", f"The specified key does not exist: {key}")
        start, end, status = 0, stored.size - 1, 200
        ranges = handler.headers.get("Range")
        if ranges and method == "GET" and "," not in ranges:
            wanted = parse_range(ranges, stored.size)
            if wanted is None:
                handler.send_response(416)
                handler.send_header("Content-Range", f"bytes */{stored.size}")
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return 416
            (start, end), status = wanted, 206
        handler.send_response(status)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(end - start + 1))
        handler.send_header("ETag", stored.etag)
        handler.send_header("Last-Modified", formatdate(stored.mtime, usegmt=True))
        handler.send_header("Accept-Ranges", "bytes")
        if status == 206:
            handler.send_header("Content-Range", f"bytes {start}-{end}/{stored.size}")
        handler.end_headers()
        if method == "GET" and end >= start:
            with open(stored.path, "rb") as source:
                source.seek(start)
                _copy(source, handler.wfile, end - start + 1)
        return status


def parse_range(header: str, size: int) -> Optional[tuple[int, int]]:
    """The inclusive byte range of one ``Range: bytes=...`` header, or None if it cannot be served."""
    unit, _, spec = header.partition("=")
    first, dash, last = spec.strip().partition("-")
    if unit.strip() != "bytes" or not dash or size == 0:
        return None
    try:
        if not first:
            length = int(last)
            return (max(0, size - length), size - 1) if length > 0 else None
        start, end = int(first), (int(last) if last else size - 1)
    except ValueError:
        return None
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


def _copy(source, target, length: int) -> None:
    while length > 0:
        chunk = source.read(min(length, 1 << 20))
        if not chunk:
            break
        target.write(chunk)
        length -= len(chunk)


def _error(handler, method: str, status: int, code: str, message: str) -> int:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{escape(message)}</Message></Error>").encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/xml")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if method != "HEAD":
        handler.wfile.write(body)
    return status


def _iso(timestamp: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


__all__ = ["ObjectStore", "StoredObject", "parse_range"]
