"""Signal points and detected incidents in the netvigil DuckDB file.

Same file as :mod:`netvigil.store.db` (``$NETVIGIL_DB`` or the XDG data path),
tables created by :mod:`netvigil.store.schema` like every other.  Points are keyed by (entity, source, time): storing a file twice
replaces, never duplicates.  Times are stored as naive UTC ``TIMESTAMP`` like the
measurement tables, and come back as aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

import duckdb
import pyarrow as pa

from netvigil.detect.records import Incident, Level, SignalKind, SignalPoint
from netvigil.signals.converters import VerdictCount
from netvigil.store.db import default_db_path
from netvigil.store.schema import StoreError, connect

_POINTS = pa.schema([("entity", pa.string()), ("source", pa.string()), ("kind", pa.string()),
                     ("time", pa.timestamp("us")), ("value", pa.float64()), ("weight", pa.float64())])


SignalsStoreError = StoreError  # one error for every table of the store


def open_signals_store(path: str | Path | None = None) -> SignalsStore:
    """Open (creating if needed) the signal tables in the database at ``path`` (default as the main store)."""
    return SignalsStore(connect(default_db_path() if path is None else path))


class SignalsStore:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    def add_points(self, points: Iterable[SignalPoint]) -> int:
        """Store points, replacing any with the same (entity, source, time); returns how many were given."""
        rows = [{"entity": p.entity, "source": p.source, "kind": p.kind.value, "time": _naive(p.time),
                 "value": p.value, "weight": p.weight} for p in points]
        if rows:
            self._con.register("_signal_batch", pa.Table.from_pylist(rows, _POINTS))
            try:
                self._con.execute("INSERT OR REPLACE INTO signal_points SELECT * FROM _signal_batch")
            finally:
                self._con.unregister("_signal_batch")
        return len(rows)

    def points(self, *, source: str | None = None, entity_prefix: str | None = None,
               since: datetime | None = None, until: datetime | None = None) -> list[SignalPoint]:
        """Stored points matching every filter given, ordered by source, entity and time."""
        where, params = ["TRUE"], []
        for clause, value in (("source = ?", source), ("starts_with(entity, ?)", entity_prefix),
                              ("time >= ?", since and _naive(since)), ("time < ?", until and _naive(until))):
            if value is not None:
                where.append(clause)
                params.append(value)
        sql = (f"SELECT entity, source, kind, time, value, weight FROM signal_points WHERE {' AND '.join(where)} "
               "ORDER BY source, entity, time")
        return [SignalPoint(entity=e, source=s, kind=SignalKind(k), time=t.replace(tzinfo=UTC), value=v, weight=w)
                for e, s, k, t, v, w in self._con.execute(sql, params).fetchall()]

    def replace_incidents(self, incidents: Iterable[Incident]) -> int:
        """Replace the stored incidents with these (one detection run's view of history)."""
        now = _naive(datetime.now(UTC))
        rows = [(list(i.entities), _naive(i.start), i.end and _naive(i.end), i.level.name.lower(), i.severity,
                 i.confidence, list(i.signals), i.on_the_hour, now, i.kind, list(i.kind_evidence), i.kind_score)
                for i in incidents]
        self._con.execute("BEGIN TRANSACTION")
        try:
            self._con.execute("DELETE FROM incidents")
            if rows:
                self._con.executemany(
                    "INSERT INTO incidents (entities, start, \"end\", level, severity, confidence, signals, on_the_hour, "
                    "stored_at, kind, kind_evidence, kind_score) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")
        return len(rows)

    def incidents(self) -> list[Incident]:
        sql = ("SELECT entities, start, \"end\", level, severity, confidence, signals, on_the_hour, "
               "kind, kind_evidence, kind_score FROM incidents ORDER BY start, entities")
        return [Incident(entities=tuple(e), start=s.replace(tzinfo=UTC), end=end and end.replace(tzinfo=UTC),
                         level=Level[lvl.upper()], severity=sev, confidence=c, signals=tuple(sig), on_the_hour=h,
                         kind=k or "undetermined", kind_evidence=tuple(ke or ()), kind_score=ks or 0.0)
                for e, s, end, lvl, sev, c, sig, h, k, ke, ks in self._con.execute(sql).fetchall()]

    def verdict_counts(self) -> list[VerdictCount]:
        """Hourly summary-verdict counts per (country, ASN, domain) from the measurement store's tables.

        Reads ``measurements`` and ``verdicts`` as :mod:`netvigil.store.db` writes
        them; an empty list when those tables do not exist in this file.
        """
        tables = {r[0] for r in self._con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if not {"measurements", "verdicts"} <= tables:
            return []
        sql = ("SELECT m.probe_cc, m.probe_asn, m.domain, date_trunc('hour', m.measurement_start_time) AS hour, "
               "count(*) FILTER (v.outcome = 'blocked'), count(*) FILTER (v.outcome = 'down'), "
               "count(*) FILTER (v.outcome = 'ok'), count(*) FILTER (v.outcome NOT IN ('blocked', 'down', 'ok')) "
               "FROM measurements m JOIN verdicts v ON v.uid = m.uid AND v.is_summary "
               "WHERE m.domain IS NOT NULL GROUP BY ALL ORDER BY ALL")
        return [VerdictCount(cc=cc, asn=asn, domain=domain, time=hour.replace(tzinfo=UTC), blocked=b, down=d, ok=o,
                             unknown=u) for cc, asn, domain, hour, b, d, o, u in self._con.execute(sql).fetchall()]


def _naive(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(tzinfo=None)
