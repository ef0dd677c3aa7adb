"""Measurement counts per country from the store's verdict counts: zeros where silence means something."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from netvigil.signals.converters import (
    MEASUREMENT_COUNT_KIND,
    MEASUREMENTS_SOURCE,
    VerdictCount,
    measurement_count_points,
)

T0 = datetime(2026, 5, 1, tzinfo=UTC)
H = timedelta(hours=1)


def count(cc: str, hour: int, *, blocked: int = 0, ok: int = 0, unknown: int = 0,
          domain: str = "a.example") -> VerdictCount:
    return VerdictCount(cc=cc, asn="AS1", domain=domain, time=T0 + hour * H, blocked=blocked, down=1, ok=ok,
                        unknown=unknown)


def test_every_measurement_counts_summed_over_networks_and_domains() -> None:
    points = measurement_count_points([count("IR", 0, blocked=2, ok=3, unknown=1),
                                       count("IR", 0, ok=4, domain="b.example")])
    assert [(p.entity, p.time, p.value) for p in points] == [("IR", T0, 12.0)]
    assert (points[0].source, points[0].kind) == (MEASUREMENTS_SOURCE, MEASUREMENT_COUNT_KIND)


def test_silence_is_zero_while_others_are_heard_and_missing_when_nobody_is() -> None:
    # IR is heard at hours 1 and 2, then falls silent while UG goes on; nobody is heard at hour 4.
    counts = [count("UG", h, ok=9) for h in (0, 1, 2, 3, 5, 6)] + [count("IR", h, ok=9) for h in (1, 2)]
    ir = [(int((p.time - T0) / H), p.value) for p in measurement_count_points(counts) if p.entity == "IR"]
    assert ir == [(1, 10.0), (2, 10.0), (3, 0.0), (5, 0.0), (6, 0.0)]  # nothing before IR was first heard
