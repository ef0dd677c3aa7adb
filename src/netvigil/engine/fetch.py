"""Resumable, anonymous download of OONI measurement files from S3 (boto3, unsigned requests).

Every file lands at ``<into>/<key>`` through a ``.part`` file that is renamed only once its
size and hashes check out, so an interrupted fetch never leaves a half file under the real
name.  A sidecar ``<file>.sha256`` records the object's size, ETag and the file's SHA-256;
a restarted fetch skips a file only when its size equals the object's, its SHA-256 equals
the sidecar's and the sidecar's ETag is the object's current one (for a single-part
upload, whose ETag is the MD5 of the content, the MD5 is checked as well).  Anything else
is fetched again.  Objects are streamed in 1 MiB chunks: memory stays bounded whatever
the file size.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import orjson
from botocore import UNSIGNED
from botocore.config import Config

from netvigil.engine.layout import OONI_BUCKET, OONI_REGION, Wanted, day_prefixes, pick_keys

ENDPOINT_ENV = "NETVIGIL_S3_ENDPOINT"
CHUNK_BYTES = 1024 * 1024
SIDECAR = ".sha256"


@dataclass(frozen=True, slots=True)
class RemoteFile:
    key: str
    size: int
    etag: str


@dataclass(frozen=True, slots=True)
class Fetched:
    """One file on disk, and whether this run downloaded it or found it complete."""

    path: Path
    remote: RemoteFile
    downloaded: bool


class FetchError(Exception):
    """The bucket cannot be listed or an object cannot be read."""


def s3_client(endpoint_url: str | None = None, region: str = OONI_REGION) -> Any:
    """An unsigned (anonymous) client; the endpoint defaults to ``$NETVIGIL_S3_ENDPOINT``, then AWS."""
    endpoint = endpoint_url or os.environ.get(ENDPOINT_ENV) or None
    config = Config(signature_version=UNSIGNED, retries={"max_attempts": 5, "mode": "standard"})
    return boto3.client("s3", endpoint_url=endpoint, region_name=region, config=config)


def list_wanted(client: Any, wanted: Wanted, bucket: str = OONI_BUCKET) -> list[RemoteFile]:
    """Every measurement file of the wanted country, test and days, in key order."""
    found: list[RemoteFile] = []
    for day in wanted.days():
        for prefix in day_prefixes(wanted, day):
            objects = {obj["Key"]: obj for obj in _list(client, bucket, prefix)}
            for key in pick_keys(list(objects)):
                obj = objects[key]
                found.append(RemoteFile(key, int(obj["Size"]), str(obj["ETag"]).strip('"')))
    return found


def _list(client: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            yield from page.get("Contents", ())
    except Exception as exc:  # botocore raises many unrelated classes; all mean "cannot list"
        raise FetchError(f"cannot list s3://{bucket}/{prefix}: {exc}") from exc


def fetch_files(client: Any, files: list[RemoteFile], into: Path, bucket: str = OONI_BUCKET,
                progress: Callable[[int], None] | None = None) -> Iterator[Fetched]:
    """Each file, downloaded unless a verified copy is already in ``into``; yields as each is ready.

    ``progress(n)`` is told of every n bytes fetched or found complete.
    """
    for remote in files:
        path = into / remote.key
        if is_complete(path, remote):
            if progress is not None:
                progress(remote.size)
            yield Fetched(path, remote, downloaded=False)
            continue
        _download(client, bucket, remote, path, progress)
        yield Fetched(path, remote, downloaded=True)


def is_complete(path: Path, remote: RemoteFile) -> bool:
    """The local copy has the object's size and the hashes recorded when it was fetched."""
    sidecar = path.with_name(path.name + SIDECAR)
    try:
        if path.stat().st_size != remote.size:
            return False
        recorded = orjson.loads(sidecar.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    if not isinstance(recorded, dict) or recorded.get("etag") != remote.etag or recorded.get("size") != remote.size:
        return False
    sha256, md5 = _hashes(path)
    return recorded.get("sha256") == sha256 and (_is_multipart(remote.etag) or md5 == remote.etag)


def _download(client: Any, bucket: str, remote: RemoteFile, path: Path,
              progress: Callable[[int], None] | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    try:
        body = client.get_object(Bucket=bucket, Key=remote.key)["Body"]
        with open(part, "wb") as out:
            for chunk in body.iter_chunks(CHUNK_BYTES):
                out.write(chunk)
                sha256.update(chunk)
                md5.update(chunk)
                size += len(chunk)
                if progress is not None:
                    progress(len(chunk))
    except Exception as exc:
        part.unlink(missing_ok=True)
        raise FetchError(f"cannot fetch s3://{bucket}/{remote.key}: {exc}") from exc
    if size != remote.size or (not _is_multipart(remote.etag) and md5.hexdigest() != remote.etag):
        part.unlink(missing_ok=True)
        raise FetchError(f"s3://{bucket}/{remote.key}: got {size:,} bytes with MD5 {md5.hexdigest()}, "
                         f"the listing said {remote.size:,} bytes and ETag {remote.etag}")
    os.replace(part, path)
    record = {"key": remote.key, "size": remote.size, "etag": remote.etag, "sha256": sha256.hexdigest()}
    path.with_name(path.name + SIDECAR).write_bytes(orjson.dumps(record))


def _hashes(path: Path) -> tuple[str, str]:
    sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            sha256.update(chunk)
            md5.update(chunk)
    return sha256.hexdigest(), md5.hexdigest()


def _is_multipart(etag: str) -> bool:
    return "-" in etag
