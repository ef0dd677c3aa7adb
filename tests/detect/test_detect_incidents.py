"""Merging detections into incidents: signals, neighbouring bins, severity, confidence, on the hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from netvigil.detect.incidents import merge_incidents, on_the_hour
from netvigil.detect.records import Detection, Level, SignalKind, country_of

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
FIVE = timedelta(minutes=5)


def det(entity: str = "IR", source: str = "ioda.bgp", start: int = 0, end: int | None = 6, *,
        area: float = 100.0, confidence: float = 0.5, level: Level = Level.CRITICAL) -> Detection:
    return Detection(entity=entity, source=source, kind=SignalKind.BGP, method="ratio-median",
                     start=T0 + start * FIVE, end=None if end is None else T0 + end * FIVE, step=FIVE, level=level,
                     area=area, confidence=confidence, alerted_at=T0 + (start + 2) * FIVE)


def test_signals_that_overlap_make_one_incident_scored_by_product_and_noisy_or():
    [i] = merge_incidents([det(source="ioda.bgp", area=10.0, confidence=0.5),
                           det(source="ioda.ping-slash24", start=2, end=9, area=20.0, confidence=0.6)])
    assert (i.start, i.end) == (T0, T0 + 9 * FIVE)
    assert i.severity == 200.0  # IODA overall score: product of the Alert Areas
    assert i.confidence == pytest.approx(1 - 0.5 * 0.4)
    assert i.signals == ("ioda.bgp", "ioda.ping-slash24")


def test_neighbouring_bins_merge_and_farther_ones_do_not():
    assert len(merge_incidents([det(end=6), det(start=7, end=10)])) == 1  # one bin apart
    assert len(merge_incidents([det(end=6), det(start=8, end=10)])) == 2


def test_an_ongoing_detection_makes_an_ongoing_incident():
    [i] = merge_incidents([det(end=6), det(start=3, end=None)])
    assert i.end is None


def test_entities_merge_only_when_grouped():
    ds = [det(entity="IR"), det(entity="IR/Tehran")]
    assert len(merge_incidents(ds)) == 2
    [i] = merge_incidents(ds, country_of)
    assert i.entities == ("IR", "IR/Tehran") and i.entity == "IR"


def test_level_is_the_highest():
    [i] = merge_incidents([det(level=Level.WARNING), det(source="x", level=Level.CRITICAL)])
    assert i.level is Level.CRITICAL


@pytest.mark.parametrize(("minute", "step_min", "expected"), [
    (0, 5, True), (30, 5, True), (5, 5, True), (6, 5, False), (17, 5, False), (44, 10, False),
    (17, 60, True),  # with hourly bins every onset may have been on the hour
])
def test_on_the_hour_within_the_bin_resolution(minute, step_min, expected):
    assert on_the_hour(T0.replace(minute=minute), timedelta(minutes=step_min)) is expected


def test_incident_json_shape():
    [i] = merge_incidents([det(end=None)])
    doc = i.to_dict()
    assert doc["start"] == "2024-03-01T12:00:00Z" and doc["end"] is None
    assert set(doc) >= {"entity", "start", "end", "severity", "confidence", "signals", "on_the_hour"}
