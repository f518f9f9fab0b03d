"""The local backend's S3 side, driven by boto3 (what aioboto3 in the servicex client runs on) and urllib.

The end-to-end ``deliver`` runs are in test_sxlocal.py; here the object store gets the
calls those do not reach: paginated listings, ranged and multipart downloads, presigned
URLs, several ranges at once, and requests for things it must not serve.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request

import pytest

boto3 = pytest.importorskip("boto3")
from boto3.s3.transfer import TransferConfig  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from vibeplot.core.servicex.local import server as server_module  # noqa: E402
from vibeplot.core.servicex.local.server import S3_ACCESS_KEY, S3_SECRET_KEY, LocalBackend  # noqa: E402

BUCKET = "0b6e4e3c-request"
KEYS = [":data:a.root", ":data:b c.root", ":data:c&d.root", ":data:e.root", ":data:f.root.parquet"]


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    folder = tmp_path_factory.mktemp("objects")
    with LocalBackend(echo_stderr=False) as served:
        served.store.create_bucket(BUCKET)
        for i, key in enumerate(KEYS):
            path = folder / f"object-{i}"
            path.write_bytes(os.urandom(3_000_000 if i == 0 else 1000 + i))
            served.store.put(BUCKET, key, path)
        yield served


@pytest.fixture(scope="module")
def s3(backend):
    return boto3.client("s3", endpoint_url=f"http://{backend.s3_endpoint}", region_name="us-east-1",
                        aws_access_key_id=S3_ACCESS_KEY, aws_secret_access_key=S3_SECRET_KEY)


def content(backend, key: str) -> bytes:
    return dict(backend.store._buckets[BUCKET])[key].path.read_bytes()


def test_listing_is_complete_in_pages_and_url_decoded(backend, s3):
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, PaginationConfig={"PageSize": 2}))
    assert [len(p.get("Contents", [])) for p in pages] == [2, 2, 1]
    listed = [o for p in pages for o in p["Contents"]]
    assert [o["Key"] for o in listed] == sorted(KEYS)  # spaces and & come back as written
    assert [o["Size"] for o in listed] == [len(content(backend, o["Key"])) for o in listed]
    assert all(o["ETag"] == '"%s"' % hashlib.md5(content(backend, o["Key"])).hexdigest() for o in listed)
    prefixed = s3.list_objects_v2(Bucket=BUCKET, Prefix=":data:e")
    assert [o["Key"] for o in prefixed["Contents"]] == [":data:e.root"]


def test_head_get_range_and_multipart_download(backend, s3, tmp_path):
    head = s3.head_object(Bucket=BUCKET, Key=":data:b c.root")
    assert head["ContentLength"] == len(content(backend, ":data:b c.root"))
    part = s3.get_object(Bucket=BUCKET, Key=":data:a.root", Range="bytes=100-199")
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206 and part["Body"].read() == content(backend, ":data:a.root")[100:200]
    target = tmp_path / "a.root"  # 3 MB in 1 MB ranged requests, as the client's transfer config allows
    s3.download_file(BUCKET, ":data:a.root", str(target),
                     Config=TransferConfig(multipart_threshold=1 << 20, multipart_chunksize=1 << 20))
    assert target.read_bytes() == content(backend, ":data:a.root")


def test_presigned_url_and_several_ranges(backend, s3):
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": ":data:c&d.root"}, ExpiresIn=60)
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.read() == content(backend, ":data:c&d.root")
    request = urllib.request.Request(url, headers={"Range": "bytes=0-9, 20-29"})
    with urllib.request.urlopen(request, timeout=10) as answer:  # whole object: uproot then asks range by range
        assert answer.status == 200 and answer.read() == content(backend, ":data:c&d.root")
    request = urllib.request.Request(url, headers={"Range": "bytes=999999-"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert info.value.code == 416


@pytest.mark.parametrize("path", [
    f"/{BUCKET}/..%2F..%2Fetc%2Fpasswd", f"/{BUCKET}/../../etc/passwd", "/etc/passwd", f"/{BUCKET}/object-0",
    "/no-such-bucket/:data:a.root", f"/{BUCKET}/%2Fetc%2Fpasswd",
])
def test_nothing_but_stored_objects_is_served(backend, path):
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"http://{backend.s3_endpoint}{path}", timeout=10)
    assert info.value.code == 404


def test_errors_and_writes(backend, s3):
    with pytest.raises(ClientError) as info:
        s3.head_object(Bucket=BUCKET, Key="missing")
    assert info.value.response["Error"]["Code"] == "404"
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=BUCKET, Key="missing")
    assert info.value.response["Error"]["Code"] == "NoSuchKey"
    with pytest.raises(ClientError):  # the store is read-only
        s3.put_object(Bucket=BUCKET, Key="new", Body=b"x")
    assert ":data:a.root" in backend.store.keys(BUCKET) and "new" not in backend.store.keys(BUCKET)


def test_parquet_without_pyarrow_names_the_extra(backend, monkeypatch):
    monkeypatch.setattr(server_module, "missing_modules", lambda *names: list(names))
    code, doc, req = backend.submit({"codegen": "uproot-raw", "file-list": ["/x.root"], "result-format": "parquet",
                                     "selection": json.dumps([{"treename": "Events"}])})
    assert (code, req) == (400, None) and "pip install 'vibeplot[parquet]'" in doc["message"]
