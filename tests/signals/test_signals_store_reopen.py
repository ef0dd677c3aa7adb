"""Regression: points can be added to a signal store that already exists (``detect --store`` twice)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from netvigil.detect.records import SignalPoint
from netvigil.store.signals_db import open_signals_store

POINT = SignalPoint(entity="XA", source="test", time=datetime(2026, 5, 1, tzinfo=UTC), value=1.0)


def test_points_are_added_after_reopening(tmp_path: Path) -> None:
    for value in (1.0, 2.0):
        with open_signals_store(tmp_path / "nv.duckdb") as store:
            store.add_points([replace(POINT, value=value)])
    with open_signals_store(tmp_path / "nv.duckdb") as store:
        assert [p.value for p in store.points()] == [2.0]
