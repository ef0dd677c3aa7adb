"""Reachability rounds (``netvigil reachability`` JSONL) as a signal, found by ``load_signals``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from netvigil.detect.records import SignalKind
from netvigil.signals import SignalFormatError, load_signals
from netvigil.signals.converters import REACHABILITY_SOURCE

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def round_line(minutes: int, sent: int, answered: int, entity: str = "XA/AS64500") -> dict:
    return {"entity": entity, "time": (T0 + timedelta(minutes=minutes)).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"), "sent": sent, "answered": answered,
            "failures": {"connection_refused": sent - answered} if sent > answered else {}}


def write(path: Path, lines: list) -> Path:
    path.write_bytes(b"".join((x if isinstance(x, bytes) else orjson.dumps(x)) + b"\n" for x in lines))
    return path


def test_rounds_become_weighted_reachability_points(tmp_path: Path) -> None:
    path = write(tmp_path / "rounds.jsonl", [round_line(0, 4, 4), b"", round_line(10, 4, 1),
                                             round_line(20, 0, 0), round_line(20, 2, 0, entity="XB")])
    points = load_signals(path).points
    assert [(p.entity, p.time, p.value, p.weight) for p in points] == [
        ("XA/AS64500", T0, 1.0, 4.0), ("XA/AS64500", T0 + timedelta(minutes=10), 0.25, 4.0),
        ("XB", T0 + timedelta(minutes=20), 0.0, 2.0)]  # a round with nothing sent is missing, not zero
    assert {(p.kind, p.source) for p in points} == {(SignalKind.REACHABILITY, REACHABILITY_SOURCE)}


@pytest.mark.parametrize(("bad", "reason"), [
    ({**round_line(10, 2, 3)}, "answered must be within"),
    ({**round_line(10, 2, 1), "sent": "2"}, "not a count"),
    ({**round_line(10, 2, 1), "time": "yesterday"}, "Invalid isoformat"),
    ({**round_line(10, 2, 1), "entity": " "}, "empty entity"),
    ({"entity": "XA", "time": "2026-05-01T10:00:00Z", "sent": 1}, "needs"),
    (b'{"entity": "XA", "ti', "not JSON"),
])
def test_a_malformed_round_stops_the_import_with_its_line(tmp_path: Path, bad, reason: str) -> None:
    path = write(tmp_path / "rounds.jsonl", [round_line(0, 2, 2), bad])
    with pytest.raises(SignalFormatError, match=reason) as caught:
        load_signals(path)
    assert caught.value.line == 2


def test_other_jsonl_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "measurements.jsonl", [{"test_name": "web_connectivity", "input": "x"}])
    with pytest.raises(SignalFormatError, match="reachability rounds"):
        load_signals(path)
