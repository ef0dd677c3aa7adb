"""Reading measurement files: the I/O edge between disk and the typed model.

Everything read becomes either a :class:`SourceRecord` (the exact bytes of one
JSON object, ready to decode) or a :class:`Quarantined` entry saying where it
was and why it cannot be used; nothing is dropped silently.  Only lines made of
whitespace are skipped, because they are not records.

Formats, chosen by file name: ``*.jsonl`` / ``*.jsonl.gz`` hold one record per
line and are streamed line by line (a 2 GB dump never sits in memory); any
other file is one JSON document, either a record or an array of records.  A
record may be a measurement or an OONI API ``measurement_meta`` response, which
:func:`decode_record` unwraps.

Positions are ``"line N"`` (1-based, as editors count), ``"item N"`` (0-based,
as JSON indexes count) or ``"file"``.
"""

from __future__ import annotations

import base64
import glob
import gzip
import io
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import orjson

from netvigil.model.errors import BadRecord
from netvigil.model.measurement import Measurement, measurement_from_dict
from netvigil.model.uid import checked_uid

MAX_RECORD_BYTES = 64 * 1024 * 1024
OVERSIZE_HEAD_BYTES = 1024 * 1024  # what an oversize line keeps in quarantine: enough to see what it was
UNENDED_LINE_FACTOR = 16  # an oversize line is skipped up to 16x the record limit, then reading stops
UNENDED_LINE = "line without end"
MEASUREMENT_SUFFIXES = (".json", ".jsonl", ".json.gz", ".jsonl.gz")
_SKIP_CHUNK = 1024 * 1024
# A measurement line is tens of KB: with the default 8 KB buffer each readline joins several
# chunks, which costs a third of reading; a 1 MiB buffer reads a line in one piece (17 -> 6 us).
READ_BUFFER_BYTES = 1024 * 1024
_BOM = b"\xef\xbb\xbf"
T = TypeVar("T")
P = ParamSpec("P")
# Tokens that matter for finding the items of a valid JSON array: strings (skipped whole,
# in the unrolled form that does not backtrack) and structural characters.
_ARRAY_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]', re.DOTALL)


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One JSON object exactly as read: its bytes are hashed and stored verbatim."""

    source: str
    position: str
    data: bytes
    # The object orjson already parsed while checking the record, so decoding does not parse twice.
    obj: dict[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Quarantined:
    """Input that could not become a record; ``category`` groups reasons for summaries."""

    source: str
    position: str
    reason: str
    data: bytes = b""
    category: str = ""

    @property
    def label(self) -> str:
        return self.category or self.reason


Item = SourceRecord | Quarantined


def iter_records(paths: Iterable[str], *, max_bytes: int = MAX_RECORD_BYTES) -> Iterator[Item]:
    """Records of every file named by ``paths`` (files, folders searched recursively, globs)."""
    for path in expand_paths(paths):
        if isinstance(path, Quarantined):
            yield path
        else:
            yield from read_file(path, max_bytes=max_bytes)


def expand_paths(paths: Iterable[str]) -> Iterator[str | Quarantined]:
    """Files to read, in a stable order; a glob that matches nothing is reported, not ignored.

    A path named explicitly is read whatever its suffix; files found in folders or
    through globs must look like measurement files (:data:`MEASUREMENT_SUFFIXES`).
    """
    for path in paths:
        if os.path.isdir(path):
            yield from _walk(path)
        elif os.path.lexists(path) or not _is_glob(path):
            yield path  # a missing file is reported by read_file with the OS's own message
        else:
            matches = sorted(glob.glob(path, recursive=True))
            if not matches:
                yield Quarantined(path, "file", "no file matches the pattern", category="no match")
            for match in matches:
                if os.path.isdir(match):
                    yield from _walk(match)
                elif match.endswith(MEASUREMENT_SUFFIXES):
                    yield match


def _is_glob(path: str) -> bool:
    return any(char in path for char in "*?[")


def _walk(folder: str) -> Iterator[str]:
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(MEASUREMENT_SUFFIXES):
                yield os.path.join(root, name)


def read_file(path: str, *, max_bytes: int = MAX_RECORD_BYTES) -> Iterator[Item]:
    """Records of one file; a file that yields nothing at all is reported as empty."""
    try:
        stream = _open(path)
    except OSError as exc:
        yield Quarantined(path, "file", f"cannot open: {exc}", category="unreadable file")
        return
    is_lines = path.removesuffix(".gz").endswith(".jsonl")
    reader = _read_lines if is_lines else _read_document
    count = 0
    with stream:
        for item in reader(path, stream, max_bytes):
            count += 1
            yield item
    if count == 0:
        yield Quarantined(path, "file", "empty file: no record in it", category="empty file")


def _open(path: str) -> io.BufferedIOBase:
    if path.endswith(".gz"):
        return gzip.open(path, "rb")  # closed by the caller
    return open(path, "rb", buffering=READ_BUFFER_BYTES)  # closed by the caller


def _read_lines(source: str, stream: io.BufferedIOBase, max_bytes: int) -> Iterator[Item]:
    number = 0
    try:
        for line in iter(lambda: stream.readline(max_bytes + 1), b""):
            number += 1
            if len(line) > max_bytes:
                entry = _oversize(source, f"line {number}", line, stream, max_bytes)
                yield entry
                if entry.category == UNENDED_LINE:
                    return  # no end in sight (a symlink to /dev/zero): the rest of the file is not read
            elif not line.isspace():
                yield check_record(source, f"line {number}", line.rstrip(b"\r\n"))
    except (OSError, EOFError, zlib.error) as exc:
        yield _read_error(source, number, exc)


def _oversize(source: str, position: str, head: bytes, stream: io.BufferedIOBase,
              max_bytes: int) -> Quarantined:
    """Skip the rest of an oversize line without holding it, and keep its first bytes.

    Skipping stops after :data:`UNENDED_LINE_FACTOR` times the record limit: a
    line that long is not a record that grew, it is a stream without newlines
    (``/dev/zero``, a FIFO fed forever) and reading on would never end.
    """
    total = len(head)
    chunk = head
    give_up = UNENDED_LINE_FACTOR * max_bytes
    while not chunk.endswith(b"\n"):
        if total >= give_up:
            reason = (f"line without end: over {give_up:,} bytes and no newline (the record limit is "
                      f"{max_bytes:,} bytes); stopped reading this file (first {OVERSIZE_HEAD_BYTES:,} bytes kept)")
            return Quarantined(source, position, reason, head[:OVERSIZE_HEAD_BYTES], UNENDED_LINE)
        chunk = stream.readline(_SKIP_CHUNK)
        if not chunk:
            break
        total += len(chunk)
    reason = (f"record too large: {total:,} bytes, over the {max_bytes:,}-byte limit "
              f"(first {OVERSIZE_HEAD_BYTES:,} bytes kept)")
    return Quarantined(source, position, reason, head[:OVERSIZE_HEAD_BYTES], "record too large")


def _read_error(source: str, lines_read: int, exc: BaseException) -> Quarantined:
    position = f"line {lines_read + 1}"
    if isinstance(exc, EOFError):
        return Quarantined(source, position, f"truncated gzip after line {lines_read}: {exc}",
                           category="truncated gzip")
    if isinstance(exc, (gzip.BadGzipFile, zlib.error)):
        return Quarantined(source, position, f"corrupt gzip after line {lines_read}: {exc}",
                           category="corrupt gzip")
    return Quarantined(source, position, f"read error after line {lines_read}: {exc}",
                       category="unreadable file")


def _read_document(source: str, stream: io.BufferedIOBase, max_bytes: int) -> Iterator[Item]:
    try:
        data = stream.read(max_bytes + 1)
    except (OSError, EOFError, zlib.error) as exc:
        yield _read_error(source, 0, exc)
        return
    if len(data) > max_bytes:
        yield Quarantined(source, "file", f"record too large: file is over the {max_bytes:,}-byte limit "
                          "for one JSON document (split it into JSONL)", data[:OVERSIZE_HEAD_BYTES],
                          "record too large")
    elif data and not data.isspace():
        parsed = _parse(source, "file", data)
        if isinstance(parsed, list):
            yield from _array_items(source, data, parsed)
        else:
            yield _as_record(source, "file", data, parsed)


def check_record(source: str, position: str, data: bytes) -> Item:
    """Parse one record's bytes: a JSON object becomes a record, anything else is quarantined."""
    return _as_record(source, position, data, _parse(source, position, data))


def _parse(source: str, position: str, data: bytes) -> Any:
    """The decoded JSON value, or a Quarantined entry explaining why it is not JSON."""
    try:
        return orjson.loads(data[3:] if data.startswith(_BOM) else data)
    except orjson.JSONDecodeError as exc:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:
            return Quarantined(source, position, f"invalid UTF-8 at byte {bad.start}: {bad.reason}",
                               data, "invalid UTF-8")
        return Quarantined(source, position, f"not JSON: {exc}", data, "not JSON")


def _as_record(source: str, position: str, data: bytes, value: Any) -> Item:
    if isinstance(value, Quarantined):
        return value
    if not isinstance(value, dict):
        return Quarantined(source, position, f"a JSON {_json_type(value)}, not an object",
                           data, "not a JSON object")
    return SourceRecord(source, position, data, value)


def _array_items(source: str, data: bytes, items: list[Any]) -> Iterator[Item]:
    """Each array element with its exact bytes, sliced from the document."""
    spans = _array_item_spans(data)  # strict: a miscount would be a bug here, never a guessed slice
    for index, ((start, end), value) in enumerate(zip(spans, items, strict=True)):
        yield _as_record(source, f"item {index}", data[start:end], value)


def _array_item_spans(data: bytes) -> list[tuple[int, int]]:
    """Byte spans of the top-level elements of a valid JSON array."""
    spans: list[tuple[int, int]] = []
    depth, start = 0, 0
    for token in _ARRAY_TOKEN.finditer(data):
        char = data[token.start()]
        if char in b"[{":
            depth += 1
            if depth == 1:
                start = token.end()
        elif char in b"]}":
            depth -= 1
            if depth == 0:
                _add_span(spans, data, start, token.start())
                break
        elif char == ord(",") and depth == 1:
            _add_span(spans, data, start, token.start())
            start = token.end()
    return spans


def _add_span(spans: list[tuple[int, int]], data: bytes, start: int, end: int) -> None:
    while start < end and data[start] in b" \t\r\n":
        start += 1
    while end > start and data[end - 1] in b" \t\r\n":
        end -= 1
    if end > start:
        spans.append((start, end))


def _json_type(value: Any) -> str:
    names = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def decode_record(rec: SourceRecord) -> Measurement:
    """The measurement in a record, unwrapping an API ``measurement_meta`` response.

    Raises BadRecord when the record is not a usable measurement.
    """
    obj = rec.obj if rec.obj is not None else _parse(rec.source, rec.position, rec.data)
    if isinstance(obj, Quarantined):
        raise BadRecord(obj.reason)
    if not isinstance(obj, dict):
        raise BadRecord(f"a JSON {_json_type(obj)}, not an object")
    uid = None
    if "raw_measurement" in obj:
        uid = checked_uid(obj.get("measurement_uid"))
        obj = _unwrap_meta(obj["raw_measurement"])
    return measurement_from_dict(obj, uid=uid)


def _unwrap_meta(raw: Any) -> dict[str, Any]:
    """``raw_measurement`` of a measurement_meta response: a JSON string or an object."""
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise BadRecord(f"raw_measurement is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise BadRecord(f"raw_measurement is a JSON {_json_type(raw)}, not an object")
    return raw


def guarded(rec: SourceRecord, step: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | Quarantined:
    """``step(*args, **kwargs)`` for one record; a failure costs that record (quarantined), not the run."""
    try:
        return step(*args, **kwargs)
    except BadRecord as exc:
        return Quarantined(rec.source, rec.position, exc.reason, rec.data, exc.category)
    except Exception as exc:  # an analysis bug must not stop an ingest of millions of records
        name = type(exc).__name__
        reason = f"unexpected {name}: {exc}"
        return Quarantined(rec.source, rec.position, reason, rec.data, f"unexpected {name}")


def encode_json(value: Any) -> bytes:
    """JSON for output and storage: sets become sorted lists, bytes OONI's base64 form."""
    return orjson.dumps(value, default=_json_default, option=orjson.OPT_NON_STR_KEYS)


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, (bytes, bytearray)):
        return {"format": "base64", "data": base64.b64encode(value).decode("ascii")}
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
