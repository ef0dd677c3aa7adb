"""IODA API v2 /signals/raw exports."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from netvigil.detect.records import SignalKind
from netvigil.signals import SignalFormatError, load_signals

FROM = 1573862400  # 2019-11-16 00:00 UTC


def series(datasource: str, values: list, entity_type: str = "country", code: str = "IR") -> dict:
    return {"entityType": entity_type, "entityCode": code, "entityName": "Iran", "entityFqid": "asia.IR",
            "datasource": datasource, "subtype": "", "from": FROM, "until": FROM + 300 * len(values),
            "step": 300, "nativeStep": 300, "values": values}


def export(tmp_path: Path, data: list, error: str | None = None) -> Path:
    path = tmp_path / "ioda.json"
    path.write_bytes(orjson.dumps({"type": "signals", "error": error, "data": data, "copyright": "x"}))
    return path


def test_scalar_series_become_points_and_nulls_are_missing(tmp_path: Path):
    path = export(tmp_path, [[series("bgp", [100, None, 98]), series("ping-slash24", [50, 51, 52], "asn", "44244")]])
    imported = load_signals(path)
    bgp = [p for p in imported.points if p.source == "ioda.bgp"]
    assert [(p.time, p.value) for p in bgp] == [(datetime(2019, 11, 16, tzinfo=UTC), 100.0),
                                                (datetime(2019, 11, 16, 0, 10, tzinfo=UTC), 98.0)]
    assert bgp[0].kind is SignalKind.BGP and bgp[0].entity == "IR"
    assert {p.entity for p in imported.points if p.source == "ioda.ping-slash24"} == {"AS44244"}
    assert imported.skipped == ()


def test_series_without_documented_thresholds_are_skipped_and_said_so(tmp_path: Path):
    path = export(tmp_path, [[series("gtr", [1, 2]), series("ping-slash24-loss", [[{"agg_values": {}}]])]])
    imported = load_signals(path)
    assert imported.points == [] and len(imported.skipped) == 2
    assert "no documented thresholds" in imported.skipped[0]


def test_an_api_error_is_an_error(tmp_path: Path):
    with pytest.raises(SignalFormatError, match="IODA API error"):
        load_signals(export(tmp_path, [], error="bad entity"))


def test_a_broken_series_is_an_error(tmp_path: Path):
    broken = series("bgp", [1])
    del broken["step"]
    with pytest.raises(SignalFormatError, match="series 0"):
        load_signals(export(tmp_path, [[broken]]))
