"""Monash IP Observatory CSV: local time to UTC, aggregation, bad rows reported by line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from netvigil.signals import SignalFormatError, load_signals
from netvigil.signals.monash import COLUMNS, read_monash

HEADER = ",".join(COLUMNS)


def monash_file(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "irn.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def row(province: str, county: str, epoch: int, text: str, value: int) -> str:
    return f"IRN,1,{province},1,{county},{epoch},{text},38.4,48.3,{value}"


def test_local_wall_clock_time_becomes_utc(tmp_path: Path):
    # 1573430400 is "11-Nov-2019 00:00:00" written as if UTC; Tehran is UTC+03:30 then.
    path = monash_file(tmp_path, [row("Ardebil", "Ardebil", 1573430400, "11-Nov-2019 00:00:00", 100)])
    [point] = read_monash(path, levels=["county"])
    assert point.time == datetime(2019, 11, 10, 20, 30, tzinfo=UTC)
    assert point.entity == "IR/Ardebil/Ardebil" and point.value == 100.0


def test_provinces_and_country_are_means_of_counties(tmp_path: Path):
    path = monash_file(tmp_path, [row("A", "a1", 1573430400, "11-Nov-2019 00:00:00", 100),
                                  row("A", "a2", 1573430400, "11-Nov-2019 00:00:00", 50),
                                  row("B", "b1", 1573430400, "11-Nov-2019 00:00:00", 0)])
    values = {p.entity: p.value for p in read_monash(path, levels=["country", "province"])}
    assert values == {"IR/A": 75.0, "IR/B": 0.0, "IR": 50.0}


@pytest.mark.parametrize(("bad", "reason"), [
    (row("A", "a", 1573430400, "11-Nov-2019 01:00:00", 100), "is not time_e_str"),
    (row("A", "a", 1573430400, "11-Nov-2019 00:00:00", 130), "outside 0..100"),
    ("IRN,1,A,1,a,1573430400", "zip()"),
    (row("A", "a", 1573430400, "11-Nov-2019 00:00:00", 100).replace("IRN", "XYZ"), "no known time zone"),
])
def test_a_bad_row_is_reported_with_its_line(tmp_path: Path, bad: str, reason: str):
    path = monash_file(tmp_path, [row("A", "a", 1573430400, "11-Nov-2019 00:00:00", 100), bad])
    with pytest.raises(SignalFormatError, match=reason) as info:
        read_monash(path)
    assert info.value.line == 3


def test_the_real_file(shared_data: Path):
    points = load_signals(shared_data / "monash_ip_observatory/irn-2019-11-11_gif.csv").points
    entities = {p.entity for p in points}
    assert len(entities) == 1 + 30  # the country and its 30 provinces
    times = sorted({p.time for p in points})
    assert (times[0], times[-1]) == (datetime(2019, 11, 10, 20, 30, tzinfo=UTC),
                                     datetime(2019, 11, 20, 2, 30, tzinfo=UTC))
    counties = read_monash(shared_data / "monash_ip_observatory/irn-2019-11-11_gif.csv", levels=["county"])
    assert len(counties) == 16_279
