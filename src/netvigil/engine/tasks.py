"""The unit of parallel work: one input file in, Parquet parts out (runs inside a worker).

A task reads one file (JSONL, JSON, gzip or postcan), decodes and analyses each record
with the very functions the DuckDB ingest uses (:func:`netvigil.store.db.record_rows`) and
writes the rows, partitioned by UTC day and country, as Parquet parts named after the
task, plus the file's quarantine entries.  Parts are written under a ``.tmp`` name and
renamed when the whole file is done, so a task that dies leaves nothing a reader sees.

Every row carries ``_order`` (file index << 32 | record index): the job's deterministic
tie-break when the same measurement turns up in two files, whatever order tasks finish in.
"""

from __future__ import annotations

import hashlib
import os
import resource
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.engine.pipeline import analyser
from netvigil.engine.postcan import iter_inputs
from netvigil.store.db import arrow_schema, record_rows
from netvigil.store.reference_data import load_default_fingerprints
from netvigil.store.sources import Quarantined, decode_record, guarded

DATA_TABLES = ("measurements", "verdicts")
QUARANTINE = "quarantine"
ORDER = "_order"
FLUSH_RECORDS = 2_000
FLUSH_BYTES = 32 * 1024 * 1024
TMP_SUFFIX = ".tmp"
_COMPRESSION = "zstd"
_ZSTD = zstandard.ZstdCompressor(level=3)  # the store's level, so raw blobs are alike
_fingerprints: dict[str, FingerprintDB] = {}


@dataclass
class FileResult:
    """What one task did with one file: read = stored + quarantined + duplicates (within the file)."""

    index: int
    source: str
    read: int = 0
    stored: int = 0
    quarantined: int = 0
    duplicates: int = 0
    by_reason: Counter[str] = field(default_factory=Counter)
    partitions: set[tuple[str, str]] = field(default_factory=set)
    parts: list[str] = field(default_factory=list)
    peak_rss: int = 0  # the worker process's peak resident memory in bytes, after this file
    cpu_seconds: float = 0.0  # CPU time the task used: a per-core figure that other load does not skew


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """Everything a worker needs; plain values so it pickles to any cluster."""

    out_dir: str
    with_raw: bool
    fingerprints_dir: str | None
    now: datetime


def worker_fingerprints(folder: str | None) -> FingerprintDB:
    """The fingerprint set, loaded once per worker process and reused by every task."""
    key = folder or ""
    if key not in _fingerprints:
        _fingerprints[key] = load_default_fingerprints(Path(folder) if folder else None)
    return _fingerprints[key]


def analyse_file(index: int, path: str, spec: TaskSpec) -> FileResult:
    """Analyse one file into Parquet parts; never raises for bad input (it is quarantined)."""
    fingerprints = worker_fingerprints(spec.fingerprints_dir)
    cpu_started = time.process_time()
    result = FileResult(index, path)
    writer = _PartWriter(spec.out_dir, f"part-{index:06d}", result)
    compress = _ZSTD.compress if spec.with_raw else None
    seen: set[str] = set()
    for ordinal, item in enumerate(iter_inputs([path])):
        result.read += 1
        order = (index << 32) | ordinal
        rows = _record(item, seen, fingerprints, spec.now, compress)
        if rows is None:
            result.duplicates += 1
        elif isinstance(rows, Quarantined):
            result.quarantined += 1
            result.by_reason[rows.label] += 1
            writer.quarantine(rows, order, spec.now)
        else:
            result.stored += 1
            writer.add(rows, order)
    writer.close()
    result.peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result.cpu_seconds = time.process_time() - cpu_started
    return result


def _record(item: Any, seen: set[str], fingerprints: FingerprintDB, now: datetime,
            compress: Any) -> dict[str, list[dict[str, Any]]] | Quarantined | None:
    """Rows of one record; None for a uid this file already had."""
    if isinstance(item, Quarantined):
        return item
    decoded = guarded(item, decode_record, item)
    if isinstance(decoded, Quarantined):
        return decoded
    if decoded.uid in seen:
        return None
    rows = guarded(item, record_rows, item, decoded, analyser(fingerprints), now, compress)
    if not isinstance(rows, Quarantined):
        seen.add(decoded.uid)
    return rows


class _PartWriter:
    """Buffers rows per (day, country) and writes each buffer out as one Parquet part."""

    def __init__(self, out_dir: str, stem: str, result: FileResult) -> None:
        self._out = Path(out_dir)
        self._stem = stem
        self._result = result
        self._rows: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
        self._quarantine: list[dict[str, Any]] = []
        self._count = 0
        self._bytes = 0
        self._seq = 0
        self._tmp: list[Path] = []

    def add(self, rows: dict[str, list[dict[str, Any]]], order: int) -> None:
        m = rows["measurements"][0]
        key = (m["measurement_start_time"].strftime("%Y-%m-%d"), _safe_cc(m["probe_cc"]))
        bucket = self._rows.setdefault(key, {t: [] for t in DATA_TABLES})
        for table in DATA_TABLES:
            for row in rows[table]:
                row[ORDER] = order
                bucket[table].append(row)
        self._count += 1
        self._bytes += len(m["raw"] or b"")
        if self._count >= FLUSH_RECORDS or self._bytes >= FLUSH_BYTES:
            self._flush()

    def quarantine(self, q: Quarantined, order: int, now: datetime) -> None:
        self._quarantine.append({
            "id": _quarantine_id(q), "source": q.source, "position": q.position, "category": q.label,
            "reason": q.reason, "sha256": hashlib.sha256(q.data).hexdigest(), "raw": _ZSTD.compress(q.data),
            "quarantined_at": now, ORDER: order})

    def _flush(self) -> None:
        for (day, cc), tables in sorted(self._rows.items()):
            self._result.partitions.add((day, cc))
            for table, rows in tables.items():
                if rows:
                    folder = self._out / table / f"day={day}" / f"cc={cc}"
                    self._write(folder, table, rows)
        self._rows, self._count, self._bytes = {}, 0, 0
        self._seq += 1

    def _write(self, folder: Path, table: str, rows: list[dict[str, Any]]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self._stem}-{self._seq:04d}.parquet{TMP_SUFFIX}"
        pq.write_table(pa.Table.from_pylist(rows, parquet_schema(table)), path, compression=_compression(table))
        self._tmp.append(path)

    def close(self) -> None:
        self._flush()
        if self._quarantine:
            self._write(self._out / QUARANTINE, QUARANTINE, self._quarantine)
        for tmp in self._tmp:
            final = tmp.with_name(tmp.name.removesuffix(TMP_SUFFIX))
            os.replace(tmp, final)
            self._result.parts.append(str(final))


def parquet_schema(table: str) -> pa.Schema:
    """The store table's columns plus ``_order``."""
    return arrow_schema(table).append(pa.field(ORDER, pa.int64()))


def _compression(table: str) -> dict[str, str]:
    """zstd for every column except ``raw``, which is zstd already (as in the DuckDB store)."""
    return {name: ("none" if name == "raw" else _COMPRESSION) for name in parquet_schema(table).names}


def _quarantine_id(q: Quarantined) -> str:
    """The store's quarantine key: where the entry was and what it held."""
    digest = hashlib.sha256(q.data).hexdigest()
    where = f"{q.source}\0{q.position}\0{digest}".encode("utf-8", "replace")
    return hashlib.sha256(where).hexdigest()[:32]


def _safe_cc(cc: str) -> str:
    """The country as a folder name: two letters, else ZZ (OONI's unknown country)."""
    return cc.upper() if len(cc) == 2 and cc.isalpha() and cc.isascii() else "ZZ"


def task_failed(index: int, path: str, out_dir: str, exc: BaseException) -> FileResult:
    """A task that died (a killed worker, out of memory): its file is quarantined as a whole."""
    for tmp in Path(out_dir).rglob(f"part-{index:06d}-*{TMP_SUFFIX}"):
        tmp.unlink(missing_ok=True)
    result = FileResult(index, path, read=1, quarantined=1)
    reason = f"task failed: {type(exc).__name__}: {exc}"
    result.by_reason["task failed"] += 1
    q = Quarantined(path, "file", reason, category="task failed")
    writer = _PartWriter(out_dir, f"part-{index:06d}", result)
    writer.quarantine(q, index << 32, datetime.now())
    writer.close()
    return result
