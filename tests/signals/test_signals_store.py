"""The signal tables of the DuckDB store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from netvigil.engine import pipeline
from netvigil.detect.records import Incident, Level, SignalKind, SignalPoint
from netvigil.store.signals_db import open_signals_store

T = datetime(2024, 1, 1, tzinfo=UTC)


def points(n: int, value: float = 1.0) -> list[SignalPoint]:
    return [SignalPoint(entity="IR/Tehran", source="ioda.bgp", time=T + i * timedelta(minutes=5), value=value,
                        kind=SignalKind.BGP) for i in range(n)]


def test_points_round_trip_and_are_not_duplicated(tmp_path: Path):
    db = tmp_path / "nv.duckdb"
    with open_signals_store(db) as store:
        store.add_points(points(10))
        store.add_points(points(10, value=2.0))
    with open_signals_store(db) as store:
        got = store.points(entity_prefix="IR", since=T + timedelta(minutes=10))
    assert len(got) == 8 and got[0] == points(3, 2.0)[2]


def test_incidents_are_replaced_by_the_latest_run(tmp_path: Path):
    incident = Incident(entities=("IR",), start=T, end=None, level=Level.CRITICAL, severity=12.5, confidence=0.9,
                        signals=("monash",), on_the_hour=True)
    with open_signals_store(tmp_path / "nv.duckdb") as store:
        store.replace_incidents([incident, incident])
        store.replace_incidents([incident])
        assert store.incidents() == [incident]


def test_default_path_follows_the_main_store(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("NETVIGIL_DB", str(tmp_path / "env.duckdb"))
    with open_signals_store() as store:
        assert store.points() == []
    assert (tmp_path / "env.duckdb").exists()


def test_verdict_counts_need_the_measurement_tables(tmp_path: Path):
    with open_signals_store(tmp_path / "nv.duckdb") as store:
        assert store.verdict_counts() == []


def test_verdict_counts_from_stored_measurements(tmp_path: Path, measurement, no_fingerprints):
    import orjson

    from netvigil.signals.converters import verdict_points
    from netvigil.store.db import open_store
    from netvigil.store.sources import SourceRecord

    db = tmp_path / "nv.duckdb"
    with open_store(db) as store:
        pipeline.ingest(store, [SourceRecord("t", f"line {n}", orjson.dumps(measurement(n))) for n in range(3)],
                     no_fingerprints)
    with open_signals_store(db) as signals:
        counts = signals.verdict_counts()
    assert sum(c.blocked for c in counts) == 3  # the fixture's measurements are blocked by a bogon answer
    assert {p.entity for p in verdict_points(counts)} == {f"IT/AS137/site{n}.example.org" for n in range(3)}
