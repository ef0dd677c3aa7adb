"""The count CUSUM (issue 11): streaming agrees with batch, gaps are not outages, a level shift is accepted."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from detect_helpers import ORIGIN, make_matrix

from netvigil.detect.base import detect_matrix
from netvigil.detect.counts import CountDetector, CountParams
from netvigil.detect.records import SignalKind, SignalPoint
from netvigil.detect.stream import Watcher
from netvigil.detect.synthetic import diurnal_counts

HOUR = timedelta(hours=1)
COUNTS = CountDetector(CountParams())


def counts(days: int = 21, seed: int = 4) -> np.ndarray:
    return diurnal_counts(np.random.default_rng(seed), entities=1, bins=days * 24, step=HOUR, low=2, high=12)[0]


def test_streaming_bin_by_bin_agrees_with_batch():
    x = counts()
    x[12 * 24 + 5:12 * 24 + 15] = 0.0
    batch = detect_matrix(make_matrix(x, step=HOUR), COUNTS)
    watcher = Watcher(detectors={SignalKind.ACTIVE_PROBING: COUNTS}, steps={SignalKind.ACTIVE_PROBING: HOUR})
    alerts = [a for i, v in enumerate(x) for a in watcher.push(
        SignalPoint(entity="E0", source="test", time=ORIGIN + i * HOUR, value=float(v)))]
    [detection] = batch
    assert [a.event for a in alerts] == ["raised", "resolved"]
    assert alerts[1].detection == detection
    assert detection.start == ORIGIN + (12 * 24 + 5) * HOUR and detection.end == ORIGIN + (12 * 24 + 15) * HOUR


def test_a_data_gap_is_not_an_outage():
    x = counts()
    x[12 * 24:12 * 24 + 20] = np.nan
    assert detect_matrix(make_matrix(x, step=HOUR), COUNTS) == []


def test_a_level_shift_is_accepted_after_the_maximum_outage():
    """IODA's inpainting maxduration: after 7 days out the new level is normal, and stays so."""
    x = counts(days=40)
    x[10 * 24:] = 0.0  # the region never comes back
    [detection] = detect_matrix(make_matrix(x, step=HOUR), COUNTS)
    assert detection.start == ORIGIN + 10 * 24 * HOUR
    assert detection.end is not None and detection.end - detection.start >= timedelta(days=7)


def test_non_counts_and_large_counts_are_left_to_the_ratio():
    x = counts() + 0.5  # not integers
    x[12 * 24:12 * 24 + 10] = 0.0
    assert detect_matrix(make_matrix(x, step=HOUR), COUNTS) == []
    big = np.random.default_rng(1).poisson(500.0, 21 * 24).astype(float)
    big[12 * 24:12 * 24 + 10] = 0.0
    assert detect_matrix(make_matrix(big, step=HOUR), COUNTS) == []
