"""Incidents and signal points, read from the tables :mod:`netvigil.store.signals_db` writes.

Those tables belong to detection; the API only reads them, by SQL on a request
cursor, and answers with nothing (not an error) while detection has not run
yet.  Incidents carry no id in the store, so each gets a stable one here: the
first 16 hex digits of the SHA-256 of its entities and start time.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from netvigil.store.database import has_table

MAX_POINTS = 20_000
_INCIDENT_COLUMNS = ("entities", "start", "end", "level", "severity", "confidence", "signals", "on_the_hour")
_INCIDENTS_SQL = ('SELECT entities, start, "end", level, severity, confidence, signals, on_the_hour '
                  "FROM incidents ORDER BY start, entities")


def incident_id(entities: list[str], start: datetime) -> str:
    key = f"{'|'.join(entities)}@{start:%Y-%m-%dT%H:%M:%S}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def incidents(con: duckdb.DuckDBPyConnection, *, country: str | None = None, overlapping: tuple[datetime, datetime]
              | None = None) -> list[dict[str, Any]]:
    """Stored incidents, oldest first; optionally of one country and overlapping [from, to)."""
    if not has_table(con, "incidents"):
        return []
    found = []
    for row in con.execute(_INCIDENTS_SQL).fetchall():
        item = dict(zip(_INCIDENT_COLUMNS, row, strict=True))
        entities, start, end = list(item["entities"]), item["start"], item["end"]
        if country is not None and not any(e.split("/", 1)[0] == country for e in entities):
            continue
        if overlapping is not None and not _overlaps(start, end, *overlapping):
            continue
        found.append(_incident_dict(item))
    return found


def incident(con: duckdb.DuckDBPyConnection, wanted: str) -> dict[str, Any]:
    """One incident by id (KeyError if none)."""
    for item in incidents(con):
        if item["id"] == wanted:
            return item
    raise KeyError(wanted)


def _overlaps(start: datetime, end: datetime | None, lo: datetime, hi: datetime) -> bool:
    return start < hi and (end is None or end > lo)


def _incident_dict(item: dict[str, Any]) -> dict[str, Any]:
    start, end = item["start"], item["end"]
    entities = list(item["entities"])
    return {"id": incident_id(entities, start), "entity": entities[0], "entities": entities,
            "country": entities[0].split("/", 1)[0], "start": iso(start), "end": None if end is None else iso(end),
            "ongoing": end is None, "level": item["level"], "severity": round(item["severity"], 3),
            "confidence": round(item["confidence"], 3), "signals": list(item["signals"]),
            "on_the_hour": item["on_the_hour"]}


def signal_series(con: duckdb.DuckDBPyConnection, *, entity: str, include_children: bool = False,
                  source: str | None = None, since: datetime | None = None,
                  until: datetime | None = None) -> list[dict[str, Any]]:
    """Points of one entity (or it and its sub-entities), one series per (entity, source)."""
    if not has_table(con, "signal_points"):
        return []
    clauses = ["(entity = ? OR (? AND starts_with(entity, ? || '/')))"]
    params: list[Any] = [entity, include_children, entity]
    for clause, value in (("source = ?", source), ("time >= ?", since), ("time < ?", until)):
        if value is not None:
            clauses.append(clause)
            params.append(naive(value) if isinstance(value, datetime) else value)
    sql = (f"SELECT entity, source, kind, time, value, weight FROM signal_points WHERE {' AND '.join(clauses)} "
           "ORDER BY entity, source, time LIMIT ?")
    series: dict[tuple[str, str], dict[str, Any]] = {}
    for ent, src, kind, time, value, weight in con.execute(sql, [*params, MAX_POINTS]).fetchall():
        entry = series.setdefault((ent, src), {"entity": ent, "source": src, "kind": kind, "points": []})
        entry["points"].append([iso(time), value, weight])
    return list(series.values())


def window_around(item: dict[str, Any], margin: timedelta = timedelta(days=2)) -> tuple[datetime, datetime]:
    """The stretch of signal worth showing around an incident: from before it began to after it ended."""
    start = parse_iso(item["start"])
    end = parse_iso(item["end"]) if item["end"] else start + margin
    return start - margin, end + margin


def latest_signal_time(con: duckdb.DuckDBPyConnection) -> datetime | None:
    if not has_table(con, "signal_points"):
        return None
    return con.execute("SELECT max(time) FROM signal_points").fetchall()[0][0]


def iso(t: datetime) -> str:
    """Stored naive UTC as ISO 8601 with ``Z``."""
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return naive(datetime.fromisoformat(text))


def naive(t: datetime) -> datetime:
    return t if t.tzinfo is None else t.astimezone(UTC).replace(tzinfo=None)
