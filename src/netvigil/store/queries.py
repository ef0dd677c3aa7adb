"""Measurement listing, one measurement in full, and blocked domains: read-only SQL.

Filters become ``WHERE`` clauses with bound parameters only; column names come
from fixed tables in this module, never from a request.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import duckdb
import orjson

from netvigil.analysis.comparison import comparison
from netvigil.store.categories import CATEGORY_SQL, join_sql
from netvigil.store.db import Store

_FROM = f"FROM measurements m LEFT JOIN verdicts v ON v.uid = m.uid AND v.is_summary {join_sql('m.domain')}"
_LIST_COLUMNS = ("uid", "input", "domain", "probe_cc", "probe_asn", "test_name", "measurement_start_time",
                 "sha256", "outcome", "technique", "confidence", "category_code")
_LIST_SQL = ("SELECT m.uid, m.input, m.domain, m.probe_cc, m.probe_asn, m.test_name, m.measurement_start_time, "
             f"m.sha256, v.outcome, v.technique, v.confidence, {CATEGORY_SQL} {_FROM}")
# (field of MeasurementFilter, SQL clause with one placeholder)
_CLAUSES = (
    ("probe_cc", "m.probe_cc = ?"), ("probe_asn", "m.probe_asn = ?"), ("domain", "m.domain = ?"),
    ("test_name", "m.test_name = ?"), ("since", "m.measurement_start_time >= ?"),
    ("until", "m.measurement_start_time < ?"), ("technique", "v.technique = ?"), ("outcome", "v.outcome = ?"),
    ("category_code", f"{CATEGORY_SQL} = ?"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasurementFilter:
    probe_cc: str | None = None
    probe_asn: str | None = None
    domain: str | None = None
    test_name: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    technique: str | None = None
    outcome: str | None = None
    category_code: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = ["TRUE"], []
        for name, clause in _CLAUSES:
            value = getattr(self, name)
            if value is not None:
                clauses.append(clause)
                params.append(_naive(value) if isinstance(value, datetime) else str(value))
        return " AND ".join(clauses), params

    def as_query(self) -> dict[str, str]:
        """The filter as URL query parameters (for ``next_url``)."""
        return {f.name: _text(getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not None}


def list_measurements(con: duckdb.DuckDBPyConnection, flt: MeasurementFilter, *, limit: int,
                      offset: int) -> tuple[list[dict[str, Any]], bool]:
    """Newest first; also whether more rows follow this page."""
    where, params = flt.where()
    rows = con.execute(f"{_LIST_SQL} WHERE {where} ORDER BY m.measurement_start_time DESC, m.uid "
                       "LIMIT ? OFFSET ?", [*params, limit + 1, offset]).fetchall()
    return [_list_item(dict(zip(_LIST_COLUMNS, row, strict=True))) for row in rows[:limit]], len(rows) > limit


def _list_item(row: dict[str, Any]) -> dict[str, Any]:
    """A listed measurement with OONI's three flags derived from its summary verdict."""
    outcome, confidence = row["outcome"], row["confidence"]
    row["measurement_start_time"] = _text(row["measurement_start_time"])
    row["anomaly"] = outcome in ("blocked", "tampered")  # tampered: a middlebox (OONI flags it too)
    row["confirmed"] = outcome == "blocked" and confidence is not None and confidence >= 1.0
    row["failure"] = outcome not in ("blocked", "tampered", "ok")
    return row


def measurement(con: duckdb.DuckDBPyConnection, uid: str) -> dict[str, Any]:
    """One measurement: verdicts with evidence, envelope, provenance with SHA-256, and the
    probe's view beside the control's.  KeyError when no such uid is stored."""
    doc, raw = Store(con).show_with_raw(uid)
    doc["sha256"] = doc["stored"]["sha256"]
    doc["category_code"] = con.execute(
        f"SELECT {CATEGORY_SQL} FROM measurements m {join_sql('m.domain')} WHERE m.uid = ?", [uid]).fetchall()[0][0]
    doc["comparison"] = comparison(raw)
    return doc


def raw_measurement(con: duckdb.DuckDBPyConnection, uid: str) -> bytes:
    """The exact bytes received; their SHA-256 is the stored one."""
    return Store(con).raw(uid)


def blocked_domains(con: duckdb.DuckDBPyConnection, flt: MeasurementFilter, *, limit: int = 200) -> list[dict[str, Any]]:
    """Domains with blocked summaries, by technique: counts, first and last seen, latest example."""
    where, params = flt.where()
    sql = (f"SELECT m.domain, {CATEGORY_SQL}, v.technique, count(*), count(*) FILTER (v.confidence >= 1.0), "
           "min(m.measurement_start_time), max(m.measurement_start_time), "
           "arg_max(m.uid, m.measurement_start_time), arg_max(m.sha256, m.measurement_start_time), "
           f"arg_max(v.evidence, m.measurement_start_time), count(DISTINCT m.probe_asn) {_FROM} "
           f"WHERE v.outcome = 'blocked' AND {where} GROUP BY ALL ORDER BY 4 DESC, 1, 3 LIMIT ?")
    names = ("domain", "category_code", "technique", "blocked", "confirmed", "first_seen", "last_seen",
             "example_uid", "example_sha256", "example_evidence", "networks")
    out = []
    for row in con.execute(sql, [*params, limit]).fetchall():
        item = dict(zip(names, row, strict=True))
        item["first_seen"], item["last_seen"] = _text(item["first_seen"]), _text(item["last_seen"])
        item["example_evidence"] = orjson.loads(item["example_evidence"] or "{}")
        out.append(item)
    return out


def cited_measurements(con: duckdb.DuckDBPyConnection, flt: MeasurementFilter, *,
                       per_group: int) -> list[dict[str, Any]]:
    """The latest ``per_group`` blocked measurements of each (domain, technique), for citation."""
    where, params = flt.where()
    sql = (f"SELECT * FROM ({_LIST_SQL} WHERE v.outcome = 'blocked' AND {where}) "
           "QUALIFY row_number() OVER (PARTITION BY domain, technique ORDER BY measurement_start_time DESC, uid) <= ? "
           "ORDER BY domain, technique, measurement_start_time DESC")
    return [_list_item(dict(zip(_LIST_COLUMNS, row, strict=True)))
            for row in con.execute(sql, [*params, per_group]).fetchall()]


def _naive(t: datetime) -> datetime:
    """Stored times are naive UTC; an aware parameter is converted, a naive one is taken as UTC."""
    return t if t.tzinfo is None else t.astimezone(UTC).replace(tzinfo=None)


def _text(value: Any) -> Any:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else value


def measurement_count(con: duckdb.DuckDBPyConnection) -> int:
    """How many measurements the store holds."""
    return int(con.execute("SELECT count(*) FROM measurements").fetchall()[0][0])


def held_measurements(con: duckdb.DuckDBPyConnection, uids: list[str]) -> dict[str, tuple[str, str, str]]:
    """For each of ``uids`` that is stored: where it was first read from and its SHA-256."""
    rows = con.execute("SELECT uid, source, position, sha256 FROM measurements "
                       "WHERE uid IN (SELECT unnest(?::VARCHAR[]))", [uids]).fetchall()
    return {uid: (source, position, sha) for uid, source, position, sha in rows}


def quarantine_reasons(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, str]:
    """Why each quarantined record of ``source`` was refused, by its position."""
    return dict(con.execute("SELECT position, reason FROM quarantine WHERE source = ?", [source]).fetchall())


def verdict_versions(con: duckdb.DuckDBPyConnection, cc: str, start: datetime,
                     end: datetime) -> list[tuple[str, str]]:
    """Rules and fingerprint versions that produced a country's summary verdicts in a period."""
    sql = ("SELECT DISTINCT v.rules_version, v.fingerprints_version FROM verdicts v JOIN measurements m "
           "ON m.uid = v.uid WHERE v.is_summary AND m.probe_cc = ? AND m.measurement_start_time >= ? "
           "AND m.measurement_start_time < ? ORDER BY ALL")
    return [(r, f) for r, f in con.execute(sql, [cc, start, end]).fetchall()]


def held_with_raw(con: duckdb.DuckDBPyConnection, uids: list[str]) -> dict[str, tuple[str, str, str, bytes]]:
    """For each of ``uids`` that is stored: source, position, SHA-256 and the compressed raw record."""
    rows = con.execute("SELECT uid, source, position, sha256, raw FROM measurements "
                       "WHERE uid IN (SELECT unnest(?::VARCHAR[]))", [uids]).fetchall()
    return {uid: (src, pos, sha, raw) for uid, src, pos, sha, raw in rows}
