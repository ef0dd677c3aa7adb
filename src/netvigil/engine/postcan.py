"""Reading OONI "postcans": tarballs of the HTTP POSTs probes sent, one ``.post`` member each.

A member is a JSON object ``{"format": "json", "content": <measurement>}`` (the body of the
probe's submission).  Each becomes one record at position ``member <name>``; its bytes are
the measurement re-encoded from ``content``, so its derived uid equals that of the same
measurement read from a JSONL can.  A member that is not such an object, and a tarball
that is truncated or corrupt, are quarantined with where it happened; reading goes on
with the next member whenever the archive allows.
"""

from __future__ import annotations

import os
import tarfile
import zlib
from collections.abc import Iterable, Iterator

import orjson

from netvigil.store.sources import (
    MEASUREMENT_SUFFIXES,
    Item,
    Quarantined,
    SourceRecord,
    expand_paths,
    read_file,
)

POSTCAN_SUFFIXES = (".tar.gz", ".tgz", ".tar")
MAX_MEMBER_BYTES = 64 * 1024 * 1024


def is_postcan(path: str) -> bool:
    return path.endswith(POSTCAN_SUFFIXES)


def iter_inputs(paths: Iterable[str]) -> Iterator[Item]:
    """Records of files, folders and globs, like ``iter_records``, postcans included."""
    for path in _expand(paths):
        if isinstance(path, Quarantined):
            yield path
        elif is_postcan(path):
            yield from read_postcan(path)
        else:
            yield from read_file(path)


def input_files(paths: Iterable[str]) -> list[str | Quarantined]:
    """Every file :func:`iter_inputs` would read, in the same order."""
    return list(_expand(paths))


def _expand(paths: Iterable[str]) -> Iterator[str | Quarantined]:
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    if is_postcan(name) or name.endswith(MEASUREMENT_SUFFIXES):
                        yield os.path.join(root, name)
        else:
            yield from expand_paths([path])


def read_postcan(path: str) -> Iterator[Item]:
    count = 0
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                count += 1
                yield _member(path, tar, member)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        count += 1
        yield Quarantined(path, f"after member {count - 1}", f"corrupt or truncated postcan: {exc}",
                          category="corrupt postcan")
    if count == 0:
        yield Quarantined(path, "file", "empty postcan: no member in it", category="empty file")


def _member(path: str, tar: tarfile.TarFile, member: tarfile.TarInfo) -> Item:
    position = f"member {member.name}"
    if member.size > MAX_MEMBER_BYTES:
        return Quarantined(path, position, f"postcan member too large: {member.size:,} bytes",
                           category="record too large")
    stream = tar.extractfile(member)
    data = stream.read() if stream is not None else b""
    try:
        post = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return Quarantined(path, position, f"not JSON: {exc}", data, "not JSON")
    content = post.get("content") if isinstance(post, dict) else None
    if not isinstance(content, dict):
        return Quarantined(path, position, "postcan member without a measurement object in 'content'",
                           data, "not a postcan member")
    return SourceRecord(path, position, orjson.dumps(content), content)
