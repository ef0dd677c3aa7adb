"""The embedded DuckDB store: measurements, their verdicts, and quarantine.

The store persists; it does not analyse.  :func:`netvigil.engine.pipeline.ingest`
hands it records and the function that turns a decoded measurement into verdict
rows, so the rules never meet SQL.  Tables and migrations: :mod:`.schema`.

Ingest is idempotent by measurement uid, so re-reading a folder only adds what is
new; a quarantined record is keyed by where it was and what it held, so it is not
listed twice either.  Every record read ends as exactly one of stored, quarantined
or duplicate, and :class:`IngestSummary` keeps that count.

Rows go in as pyarrow batches (one ``INSERT ... SELECT`` per table and batch)
because row-by-row inserts are orders of magnitude slower in DuckDB.  The raw
measurement is kept as its exact bytes, zstd-compressed, so ``raw(uid)`` returns
what was read and its SHA-256 equals the stored one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from netvigil.model.errors import BadRecord
from netvigil.model.measurement import Measurement
from netvigil.model.verdict import Outcome
from netvigil.store.schema import MEASUREMENT_TABLES, SCHEMA_VERSION, StoreError, connect
from netvigil.store.sources import Item, Quarantined, SourceRecord, decode_record, guarded

__all__ = ["SCHEMA_VERSION", "IngestSummary", "Store", "StoreError", "default_db_path", "open_store"]
BATCH_ROWS = 2_000
BATCH_BYTES = 16 * 1024 * 1024  # compressed raw JSON held per batch: flush early on big records
ZSTD_LEVEL = 3
EXPORT_BATCH_ROWS = 1_024
STATS_OUTCOMES = (*(o.value for o in Outcome), "unanalysed")
DOCUMENT_FIELDS = ("uid", "input", "probe_cc", "probe_asn", "measurement_start_time", "test_name")

TABLES = MEASUREMENT_TABLES
_ARROW_TYPES = {"VARCHAR": pa.string(), "JSON": pa.string(), "INTEGER": pa.int32(), "DOUBLE": pa.float64(),
                "BOOLEAN": pa.bool_(), "TIMESTAMP": pa.timestamp("us"), "BLOB": pa.large_binary()}
_COLUMNS = {table: tuple(c.split()[0] for c in cols) for table, cols in TABLES.items()}
_ARROW = {table: pa.schema([(c.split()[0], _ARROW_TYPES[c.split()[1]]) for c in cols])
          for table, cols in TABLES.items()}
VerdictRows = list[dict[str, Any]]
# Turns one decoded measurement into its verdict rows, stamped with the given time.
Analyse = Callable[[Measurement, datetime], VerdictRows]
_INTEGER_COLUMNS = {table: tuple(c.split()[0] for c in cols if c.split()[1] == "INTEGER")
                    for table, cols in TABLES.items()}
INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1
# Strings are matched whole so that digits inside them are skipped; 19 digits may already exceed 2^63.
_LONG_INTEGER = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|(-?[0-9]{19,})(?![.eE0-9])', re.DOTALL)
_JSON_WHITESPACE = re.compile(rb'("[^"\\]*(?:\\.[^"\\]*)*")|[ \t\r\n]+', re.DOTALL)


@dataclass
class IngestSummary:
    """What one ingest did with each record read: read = stored + quarantined + duplicates."""

    read: int = 0
    stored: int = 0
    quarantined: int = 0
    duplicates: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)

    def count_quarantined(self, entries: Iterable[Quarantined]) -> None:
        for entry in entries:
            self.quarantined += 1
            self.by_reason[entry.label] = self.by_reason.get(entry.label, 0) + 1


Rows = dict[str, list[dict[str, Any]]]


@dataclass
class _Batch:
    """Rows waiting for one flush, keyed by uid, and quarantine entries.

    Each record is decoded and analysed once, as it arrives, and only its rows are
    kept (the raw JSON already compressed): a parsed measurement takes several
    times its size, so none is held beyond its own analysis.  Rows of a uid that
    the store already has are dropped at flush.
    """

    fresh: dict[str, Rows] = field(default_factory=dict)
    quarantined: list[Quarantined] = field(default_factory=list)
    read: int = 0
    size: int = 0
    duplicates: int = 0

    @property
    def full(self) -> bool:
        return self.read >= BATCH_ROWS or self.size >= BATCH_BYTES

    def add(self, item: Item, to_rows: Callable[[SourceRecord, Measurement], Rows]) -> None:
        self.read += 1
        if isinstance(item, Quarantined):
            self.quarantined.append(item)
            return
        decoded = guarded(item, decode_record, item)
        if isinstance(decoded, Quarantined):
            self.quarantined.append(decoded)
        elif decoded.uid in self.fresh:
            self.duplicates += 1
        else:
            rows = guarded(item, to_rows, item, decoded)
            if isinstance(rows, Quarantined):
                self.quarantined.append(rows)
            else:
                self.fresh[decoded.uid] = rows
                self.size += len(rows["measurements"][0]["raw"])


def default_db_path() -> Path:
    """``$NETVIGIL_DB``, else ``<XDG_DATA_HOME or ~/.local/share>/netvigil/netvigil.duckdb``."""
    if os.environ.get("NETVIGIL_DB"):
        return Path(os.environ["NETVIGIL_DB"])
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "netvigil" / "netvigil.duckdb"


def open_store(path: str | Path | None = None, *, read_only: bool = False) -> Store:
    """The store at ``path`` (default :func:`default_db_path`), created unless ``read_only``.

    Read-only opening refuses a missing file, so a mistyped ``--db`` is reported rather
    than answered from a new empty database, and lets several readers share the file.
    """
    target = default_db_path() if path is None else Path(path)
    return Store(connect(target, read_only=read_only))


class Store:
    """One DuckDB database file; not shared between threads."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        """``con`` comes from :func:`netvigil.store.schema.connect`, which brought its schema up to date."""
        self._con = con
        self._zstd = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        self._unzstd = zstandard.ZstdDecompressor()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

    # --- ingest -----------------------------------------------------------------------------

    def ingest(self, records: Iterable[Item], analyse: Analyse,
               progress: Callable[[int], None] | None = None) -> IngestSummary:
        """Decode records, store each with the verdict rows ``analyse`` gives it, quarantine the rest.

        ``progress(n)`` is told of each batch of n records read.
        """
        if not callable(analyse):
            raise TypeError("Store.ingest takes the analysis as a function: call netvigil.engine.pipeline.ingest")
        summary = IngestSummary()
        batch = _Batch()
        now = _now()

        def to_rows(rec: SourceRecord, m: Measurement) -> Rows:
            return self._rows(rec, m, analyse, now)

        for item in records:
            batch.add(item, to_rows)
            if batch.full:
                self._flush(batch, summary, progress)
                batch = _Batch()
        self._flush(batch, summary, progress)
        return summary

    def _flush(self, batch: _Batch, summary: IngestSummary, progress: Callable[[int], None] | None) -> None:
        if not batch.read:
            return
        existing = self._existing("measurements", "uid", list(batch.fresh))
        rows: Rows = {"measurements": [], "verdicts": []}
        for uid, new_rows in batch.fresh.items():
            if uid in existing:
                batch.duplicates += 1
                continue
            for table, new in new_rows.items():
                rows[table].extend(new)
        rows["quarantine"] = self._quarantine_rows(batch.quarantined, _now())
        with self._transaction():
            for table, new in rows.items():
                self._insert(table, new)
        summary.read += batch.read
        summary.stored += len(rows["measurements"])
        summary.duplicates += batch.duplicates
        summary.count_quarantined(batch.quarantined)
        if progress is not None:
            progress(batch.read)

    def _rows(self, rec: SourceRecord, m: Measurement, analyse: Analyse, now: datetime) -> Rows:
        return record_rows(rec, m, analyse, now, self._zstd.compress)

    def _quarantine_rows(self, entries: list[Quarantined], now: datetime) -> list[dict[str, Any]]:
        """New quarantine rows; one already stored (or repeated in the batch) is not added twice."""
        rows: dict[str, dict[str, Any]] = {}
        for q in entries:
            digest = hashlib.sha256(q.data).hexdigest()
            where = f"{q.source}\0{q.position}\0{digest}".encode("utf-8", "replace")
            key = hashlib.sha256(where).hexdigest()[:32]
            rows[key] = {"id": key, "source": q.source, "position": q.position, "category": q.label,
                         "reason": q.reason, "sha256": digest, "raw": self._zstd.compress(q.data),
                         "quarantined_at": now}
        known = self._existing("quarantine", "id", list(rows))
        return [row for key, row in rows.items() if key not in known]

    def _existing(self, table: str, key: str, values: list[str]) -> set[str]:
        if not values:
            return set()
        sql = f"SELECT {key} FROM {table} WHERE {key} IN (SELECT unnest(?::VARCHAR[]))"
        return {row[0] for row in self._con.execute(sql, [values]).fetchall()}

    def _insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        self._con.register("_netvigil_batch", pa.Table.from_pylist(rows, _ARROW[table]))
        try:
            columns = ", ".join(_COLUMNS[table])
            self._con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _netvigil_batch")
        finally:
            self._con.unregister("_netvigil_batch")

    def load_dataset(self, dataset: str | Path) -> tuple[int, int]:
        """Add an engine job's Parquet rows; returns (measurements added, quarantine entries added)."""
        from netvigil.store.parquet import load_dataset

        return load_dataset(self._con, dataset)

    # --- re-analysis ------------------------------------------------------------------------

    def reanalyze(self, analyse: Analyse, progress: Callable[[int], None] | None = None) -> int:
        """Replace every stored measurement's verdicts; returns how many were analysed.

        A measurement whose analysis now fails keeps no verdicts and gets a quarantine
        entry saying why, so the failure is visible without losing the measurement.
        """
        analysed, after = 0, ""
        while page := self._con.execute(
            "SELECT uid, source, position, raw FROM measurements WHERE uid > ? ORDER BY uid LIMIT ?",
            [after, BATCH_ROWS],
        ).fetchall():
            after = page[-1][0]
            rows: dict[str, list[dict[str, Any]]] = {"verdicts": [], "quarantine": []}
            failed: list[Quarantined] = []
            now = _now()
            for uid, source, position, raw in page:
                rec = SourceRecord(source, position, self._unzstd.decompress(raw))
                result = guarded(rec, _reanalysis_rows, rec, uid, analyse, now)
                if isinstance(result, Quarantined):
                    failed.append(replace(result, reason=f"re-analysis of {uid}: {result.reason}"))
                else:
                    rows["verdicts"] += result
            rows["quarantine"] = self._quarantine_rows(failed, now)
            uids = [row[0] for row in page]
            with self._transaction():
                self._con.execute("DELETE FROM verdicts WHERE uid IN (SELECT unnest(?::VARCHAR[]))", [uids])
                for table, new in rows.items():
                    self._insert(table, new)
            analysed += len(page) - len(failed)
            if progress is not None:
                progress(len(page))
        return analysed

    # --- reading ----------------------------------------------------------------------------

    def raw(self, uid: str) -> bytes:
        """The exact bytes the measurement was read from (KeyError if not stored)."""
        row = self._con.execute("SELECT raw FROM measurements WHERE uid = ?", [uid]).fetchone()
        if row is None:
            raise KeyError(uid)
        return self._unzstd.decompress(row[0])

    def show(self, uid: str) -> dict[str, Any]:
        """One measurement: the ``verdicts`` document plus its envelope and provenance."""
        return self.show_with_raw(uid)[0]

    def show_with_raw(self, uid: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """:meth:`show` and the decoded raw object, from one decompression and one parse."""
        cols = (*DOCUMENT_FIELDS, "domain", "sha256", "source", "position", "ingested_at")
        row = self._con.execute(f"SELECT {', '.join(cols)} FROM measurements WHERE uid = ?", [uid]).fetchone()
        if row is None:
            raise KeyError(uid)
        stored = dict(zip(cols, row, strict=True))
        doc = {name: _plain(stored.pop(name)) for name in DOCUMENT_FIELDS}
        verdicts = self._con.execute(
            "SELECT is_summary, layer, technique, outcome, confidence, rule, hostname, depth, evidence, "
            "rules_version, fingerprints_version, analysed_at FROM verdicts WHERE uid = ? ORDER BY idx",
            [uid]).fetchall()
        doc["summary"] = next((_verdict_dict(v) for v in verdicts if v[0]), None)
        doc["verdicts"] = [_verdict_dict(v) for v in verdicts if not v[0]]
        raw = decode_record(SourceRecord(str(stored["source"]), str(stored["position"]), self.raw(uid))).raw
        doc["envelope"] = {k: v for k, v in raw.items() if k != "test_keys"}
        analysed = {"rules_version": verdicts[0][9], "fingerprints_version": verdicts[0][10],
                    "analysed_at": _plain(verdicts[0][11])} if verdicts else {}
        doc["stored"] = {**{k: _plain(v) for k, v in stored.items()}, **analysed}
        return doc, raw

    def stats(self) -> dict[str, Any]:
        """Measurement counts by country, ASN, summary technique and test, split by summary outcome."""
        def grouped(key: str) -> list[dict[str, Any]]:
            sql = (f"SELECT {key}, coalesce(v.outcome, 'unanalysed'), count(*) FROM measurements m "
                   "LEFT JOIN verdicts v ON v.uid = m.uid AND v.is_summary GROUP BY ALL")
            table: dict[str, Counter[str]] = {}
            for name, outcome, count in self._con.execute(sql).fetchall():
                table.setdefault(str(name), Counter())[outcome] += count
            rows = [{"key": name, "measurements": sum(c.values()), **{o: c[o] for o in STATS_OUTCOMES}}
                    for name, c in table.items()]
            return sorted(rows, key=lambda r: (-r["measurements"], r["key"]))

        outcomes = self._con.execute(
            "SELECT outcome, count(*) FROM verdicts WHERE is_summary GROUP BY ALL ORDER BY 2 DESC").fetchall()
        counts = self.counts()
        return {
            "measurements": counts["measurements"],
            "quarantined": counts["quarantine"],
            "by_outcome": dict(outcomes),
            "by_country": grouped("m.probe_cc"),
            "by_asn": grouped("m.probe_asn"),
            "by_technique": grouped("coalesce(v.technique, 'unanalysed')"),
            "by_test": grouped("m.test_name"),
        }

    def counts(self) -> dict[str, int]:
        """Rows in each table."""
        sql = "SELECT count(*) FROM {}"
        return {table: self._con.execute(sql.format(table)).fetchall()[0][0] for table in TABLES}

    def quarantine_entries(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Quarantined records, newest first, with where they were and why."""
        rows = self._con.execute(
            "SELECT source, position, category, reason, sha256, quarantined_at FROM quarantine "
            "ORDER BY quarantined_at DESC, source, position LIMIT ?", [limit]).fetchall()
        names = ("source", "position", "category", "reason", "sha256", "quarantined_at")
        return [{name: _plain(value) for name, value in zip(names, row, strict=True)} for row in rows]

    def export_jsonl(self, out_path: str | Path) -> int:
        """Write every stored measurement as one compact JSON line, in start-time order.

        Each line is the original object re-encoded without whitespace: every field,
        modelled or not, comes back unchanged (the exact source bytes stay available
        through :meth:`raw`).
        """
        Path(out_path).parent.mkdir(parents=True, exist_ok=True)  # before the work, not after it
        cursor = self._con.cursor()
        count = 0
        try:
            reader = cursor.sql("SELECT raw FROM measurements ORDER BY measurement_start_time, uid"
                                ).to_arrow_reader(EXPORT_BATCH_ROWS)
            with open(out_path, "wb") as out:
                for batch in reader:
                    for blob in batch.column(0).to_pylist():
                        out.write(compact_json(self._unzstd.decompress(blob)) + b"\n")
                        count += 1
        finally:
            cursor.close()
        return count

    def export_parquet(self, out_dir: str | Path) -> dict[str, int]:
        """Write ``<table>.parquet`` for every table, raw columns decompressed; returns rows per table."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = {}
        for table in TABLES:
            cursor = self._con.cursor()
            try:
                reader = cursor.sql(f"SELECT * FROM {table}").to_arrow_reader(EXPORT_BATCH_ROWS)
                path = out / f"{table}.parquet"
                written[table] = self._write_parquet(reader, path, raw_is_text=table == "measurements")
            finally:
                cursor.close()
        return written

    def _write_parquet(self, reader: pa.RecordBatchReader, path: Path, raw_is_text: bool) -> int:
        """Stream batches to Parquet, replacing compressed ``raw`` by its JSON text (or bytes)."""
        schema = reader.schema
        index = schema.get_field_index("raw")
        raw_type = pa.large_string() if raw_is_text else pa.large_binary()
        if index >= 0:
            schema = schema.set(index, pa.field("raw", raw_type))
        rows = 0
        with pq.ParquetWriter(path, schema) as writer:
            for batch in reader:
                if index >= 0:
                    raw = [self._unzstd.decompress(b) for b in batch.column(index).to_pylist()]
                    batch = batch.set_column(index, "raw", pa.array(
                        [r.decode("utf-8") for r in raw] if raw_is_text else raw, raw_type))
                writer.write_batch(batch)
                rows += batch.num_rows
        return rows


def record_rows(rec: SourceRecord, m: Measurement, analyse: Analyse, now: datetime,
                compress: Callable[[bytes], bytes] | None) -> Rows:
    """The rows one record adds to each table; ``compress=None`` leaves ``raw`` out (None).

    Shared by the store's ingest and the parallel engine (netvigil.engine), so both write
    the very same rows.
    """
    measurement = {
        "uid": m.uid, "report_id": m.report_id, "test_name": m.test_name, "test_version": m.test_version,
        "input": m.input, "domain": _domain(m.input), "probe_cc": m.probe_cc, "probe_asn": m.probe_asn,
        "measurement_start_time": m.start_time, "sha256": hashlib.sha256(rec.data).hexdigest(),
        "source": rec.source, "position": rec.position,
        "raw": compress(rec.data) if compress is not None else None, "ingested_at": now,
    }
    verdicts = analyse(m, now)
    _check_integers("verdicts", verdicts)
    return {"measurements": [measurement], "verdicts": verdicts}


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of one store table (the engine writes its Parquet with it)."""
    return _ARROW[table]


def _reanalysis_rows(rec: SourceRecord, uid: str, analyse: Analyse, now: datetime) -> VerdictRows:
    """Rows for a stored measurement, keyed by its stored uid whatever the record now derives."""
    return analyse(replace(decode_record(rec), uid=uid), now)


def decompress_raw(blob: bytes) -> bytes:
    """A ``raw`` column value (zstd) back to the exact bytes read, for code holding its own cursor."""
    return zstandard.ZstdDecompressor().decompress(blob)


def compact_json(raw: bytes) -> bytes:
    """``raw`` re-encoded without whitespace, every number exactly as written.

    orjson reads an integer beyond 64 bits as a float, so a record holding one
    (an attacker's, or a counter) goes through the standard library, which keeps
    integers exact; one with an integer too long even for it keeps its own text.
    """
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    if not any(m.group(1) for m in _LONG_INTEGER.finditer(raw)):
        return orjson.dumps(orjson.loads(raw))
    try:
        return json.dumps(json.loads(raw), separators=(",", ":"), ensure_ascii=False).encode()
    except ValueError:  # over the interpreter's digit limit for int()
        return _JSON_WHITESPACE.sub(lambda m: m.group(1) or b"", raw)


def _check_integers(table: str, rows: list[dict[str, Any]]) -> None:
    """Raise BadRecord for a value an INTEGER column cannot hold, so it costs its record, not the batch."""
    for row in rows:
        for column in _INTEGER_COLUMNS[table]:
            value = row.get(column)
            if value is None or (type(value) is int and INT32_MIN <= value <= INT32_MAX):
                continue
            shown = f"{value!r}"[:40]
            raise BadRecord(f"number out of range: {table}.{column} = {shown} is not a 32-bit integer",
                            category="number out of range")


def _verdict_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    """A stored verdict in the shape of ``Verdict.to_dict``."""
    _, layer, technique, outcome, confidence, rule, hostname, depth, evidence = row[:9]
    return {"layer": layer, "technique": technique, "outcome": outcome, "confidence": round(confidence, 3),
            "rule": rule, "hostname": hostname, "depth": depth,
            "evidence": orjson.loads(evidence) if evidence is not None else {}}


def _domain(url: str | None) -> str | None:
    """The input URL's host, for grouping; None for inputs that are not URLs with a host."""
    if not url or "://" not in url:
        return None
    try:
        return urlsplit(url).hostname
    except ValueError:  # e.g. an unbalanced "[" in the host: the input is still stored verbatim
        return None


def _plain(value: Any) -> Any:
    """Timestamps as OONI writes them ("YYYY-MM-DD HH:MM:SS"); other values unchanged."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else value


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
