"""The generic entity,time,value CSV and format detection."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from netvigil.detect.records import SignalKind
from netvigil.signals import SignalFormatError, load_signals
from netvigil.signals.generic_csv import parse_time


def test_optional_columns_and_missing_values(tmp_path: Path):
    path = tmp_path / "points.csv"
    path.write_text("time,entity,value,kind,weight,source\n"
                    "2024-01-01T00:00:00Z,UG/AS1/x.com,0.5,anomaly-rate,4,ooni\n"
                    "2024-01-01T01:00:00Z,UG/AS1/x.com,,anomaly-rate,4,ooni\n\n")
    [point] = load_signals(path).points
    assert (point.kind, point.weight, point.source) == (SignalKind.ANOMALY_RATE, 4.0, "ooni")


def test_defaults(tmp_path: Path):
    path = tmp_path / "mine.csv"
    path.write_text("entity,time,value\nSD,1700000000,12\n")
    [point] = load_signals(path).points
    assert (point.source, point.kind, point.time) == ("mine", SignalKind.ACTIVE_PROBING,
                                                      datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC))


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-01-01T03:30:00+03:30", datetime(2024, 1, 1, tzinfo=UTC)),
    ("2024-01-01 00:00:00", datetime(2024, 1, 1, tzinfo=UTC)),
    ("1704067200", datetime(2024, 1, 1, tzinfo=UTC)),
])
def test_times_are_utc(text: str, expected: datetime):
    assert parse_time(text) == expected


@pytest.mark.parametrize(("content", "line"), [
    ("entity,time,value\nSD,2024-01-01T00:00:00Z,abc\n", 2),
    ("entity,time,value\nSD,2024-01-01T00:00:00Z,1\n,2024-01-01T00:05:00Z,1\n", 3),
    ("entity,time,value\nSD,2024-01-01T00:00:00Z,1,extra\n", 2),
    ("entity,time,value,kind\nSD,2024-01-01T00:00:00Z,1,bogus\n", 2),
])
def test_bad_rows_name_their_line(tmp_path: Path, content: str, line: int):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(SignalFormatError) as info:
        load_signals(path)
    assert info.value.line == line


def test_unknown_formats_are_refused(tmp_path: Path):
    (tmp_path / "a.csv").write_text("x,y\n1,2\n")
    (tmp_path / "a.txt").write_text("hello")
    for name in ("a.csv", "a.txt"):
        with pytest.raises(SignalFormatError, match="unknown"):
            load_signals(tmp_path / name)
