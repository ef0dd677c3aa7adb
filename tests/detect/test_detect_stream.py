"""Streaming: the watcher alerts within 2 bins of onset and agrees with batch detection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from detect_helpers import make_matrix

from netvigil.detect.base import default_detectors, detect_matrix
from netvigil.detect.records import SignalKind, SignalPoint
from netvigil.detect.stream import Watcher

T0 = datetime(2024, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=5)


def series(values: np.ndarray, entity: str = "IR", kind: SignalKind = SignalKind.ACTIVE_PROBING,
           step: timedelta = STEP) -> list[SignalPoint]:
    return [SignalPoint(entity=entity, source="s", time=T0 + i * step, value=float(v), kind=kind)
            for i, v in enumerate(values) if not np.isnan(v)]


def outage_series() -> np.ndarray:
    x = np.full(3 * 288, 1000.0)
    x[700:760] = 50.0
    x[500:530] = np.nan
    return x


def test_an_alert_is_raised_within_two_bins_and_resolved():
    watcher = Watcher()
    alerts = [(p.time, a) for p in series(outage_series()) for a in watcher.push(p)]
    (t_raised, raised), (_, resolved) = alerts
    assert raised.event == "raised" and raised.detection.start == T0 + 700 * STEP
    assert raised.latency == 2 * STEP and t_raised - raised.detection.start < 2 * STEP
    assert resolved.event == "resolved" and resolved.detection.end == T0 + 760 * STEP


def test_streaming_agrees_with_batch():
    x = outage_series()
    watcher = Watcher()
    resolved = [a.detection for p in series(x) for a in watcher.push(p) if a.event == "resolved"]
    batch = detect_matrix(make_matrix(x), default_detectors()[SignalKind.ACTIVE_PROBING])
    assert [(d.start, d.end, d.level) for d in resolved] == [(d.start, d.end, d.level) for d in batch]


def test_late_points_are_counted_not_used():
    watcher = Watcher()
    points = series(np.full(10, 1000.0))
    for p in points:
        watcher.push(p)
    assert watcher.push(points[3]) == [] and watcher.late == 1


def test_anomaly_rates_collect_a_bin_before_judging_it():
    hour = timedelta(hours=1)
    points = [SignalPoint(entity="UG/AS1/x.com", source="ooni", time=T0 + i * hour + timedelta(minutes=m),
                          value=0.75, kind=SignalKind.ANOMALY_RATE) for i in range(40) for m in (5, 35)]
    watcher = Watcher()
    raised = [a for p in points for a in watcher.push(p)]
    raised += watcher.flush()
    [alert] = raised
    assert alert.detection.start == T0 and alert.latency == 9 * hour  # 9 bins x 2 x 0.4 >= 7
    assert watcher.ongoing()[0].end is None
