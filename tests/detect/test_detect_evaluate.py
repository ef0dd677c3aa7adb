"""The matching rule of ``netvigil eval outages``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from netvigil.detect.evaluate import TruthEvent, score
from netvigil.detect.records import Incident, Level

H = timedelta(hours=1)
T0 = datetime(2019, 11, 16, tzinfo=UTC)
SINCE, UNTIL = T0 - 48 * H, T0 + 96 * H


def incident(entity: str, start: float, end: float | None) -> Incident:
    return Incident(entities=(entity,), start=T0 + start * H, end=None if end is None else T0 + end * H,
                    level=Level.CRITICAL, severity=1.0, confidence=1.0, signals=("s",), on_the_hour=True)


def test_same_country_and_overlap_match_and_errors_are_signed():
    truth = [TruthEvent(countries=("IR",), start=T0 + 14 * H, end=T0 + 40 * H)]
    s = score([incident("IR", 17.5, 50), incident("IR/Tehran", 16, 20), incident("IQ", 15, 30)], truth,
              since=SINCE, until=UNTIL, countries={"IR", "IQ"})
    assert (s.precision, s.recall) == (2 / 3, 1.0)
    [m] = s.matches
    assert m.incident.entity == "IR"  # the longest overlap, not the earliest
    assert m.onset_error == 3.5 * H and m.end_error == 10 * H


def test_open_ends_run_to_the_window_end():
    truth = [TruthEvent(countries=("IR",), start=T0, end=None)]
    s = score([incident("IR", 90, None)], truth, since=SINCE, until=UNTIL, countries={"IR"})
    assert s.recall == 1.0 and s.matches[0].end_error is None


def test_events_outside_the_window_or_the_covered_countries_are_not_scored():
    truth = [TruthEvent(countries=("IR",), start=T0 - 500 * H, end=T0 - 400 * H),
             TruthEvent(countries=("SD",), start=T0, end=T0 + H)]
    s = score([], truth, since=SINCE, until=UNTIL, countries={"IR"})
    assert s.events == 0 and s.recall is None
