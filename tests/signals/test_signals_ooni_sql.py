"""The OONI analysis SQL fixture reader."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from netvigil.detect.records import SignalKind
from netvigil.signals import SignalFormatError, load_signals
from netvigil.signals.ooni_sql import SCORES, parse_inserts

COLUMNS = ["domain", "probe_asn", "probe_cc", "measurement_start_time", "top_probe_analysis", *SCORES]


def insert(*rows: str) -> str:
    cols = ", ".join(f"`{c}`" for c in COLUMNS)
    return f"INSERT INTO analysis_web_measurement ({cols}) VALUES " + "\n, ".join(rows) + ";\n"


def values(time: str, scores: list[float], analysis: str = "'it''s'") -> str:
    return f"('x.com', 20294, 'UG', '{time}', {analysis}, {', '.join(map(str, scores))})"


def test_rows_become_anomaly_rate_points(tmp_path: Path):
    path = tmp_path / "a.sql"
    ok = [0, 0, 1, 0, 0, 1, 0, 0, 1]
    tcp = [0, 0, 1, 0.75, 0.25, 0, 0, 0, 0]
    path.write_text(insert(values("2026-01-18 05:46:00.000", tcp), values("2026-01-18 06:00:00.000", ok),
                           values("2026-01-18 07:00:00.000", [0] * 9, "NULL")))
    imported = load_signals(path)
    assert [p.value for p in imported.points] == [0.75, 0.0]
    p = imported.points[0]
    assert (p.entity, p.kind, p.time) == ("UG/AS20294/x.com", SignalKind.ANOMALY_RATE,
                                          datetime(2026, 1, 18, 5, 46, tzinfo=UTC))
    assert imported.skipped == (f"{path}: 1 rows with no DNS/TCP/TLS score skipped",)
    rows = [r for _, r in parse_inserts(path)]
    assert rows[0]["top_probe_analysis"] == "it's" and rows[2]["top_probe_analysis"] is None


@pytest.mark.parametrize(("sql", "line", "reason"), [
    ("INSERT INTO t (`a`, `b`) VALUES (1, 2)\n, (3)\n", 2, "1 values for 2 columns"),
    ("INSERT INTO t (`a`) VALUES\n(1) ; DELETE\n", 2, "expected INSERT"),
    ("INSERT INTO t (`a`) VALUES (1)\n, (#)\n", 2, "unexpected"),
])
def test_malformed_sql_names_its_line(tmp_path: Path, sql: str, line: int, reason: str):
    path = tmp_path / "bad.sql"
    path.write_text(sql)
    with pytest.raises(SignalFormatError, match=reason) as info:
        list(parse_inserts(path))
    assert info.value.line == line


def test_the_uganda_fixture(shared_data: Path):
    imported = load_signals(shared_data / "ooni-data/oonipipeline/tests/data/ug-analysis.sql")
    assert len(imported.points) == 470 and imported.skipped == ()
    assert {p.entity for p in imported.points} == {"UG/AS20294/twitter.com"}
