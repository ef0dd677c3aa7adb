"""The two-sided CUSUM on anomaly-rate step series."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from detect_helpers import ORIGIN, make_matrix

from netvigil.detect.base import detect_matrix
from netvigil.detect.cusum import CusumDetector, CusumParams
from netvigil.detect.records import Level, SignalKind

HOUR = timedelta(hours=1)
CUSUM = CusumDetector(CusumParams())


def rates(values: list[float], weights: list[float] | None = None):
    x = np.array(values, dtype=float)
    w = np.where(np.isnan(x), 0.0, 1.0) if weights is None else np.array(weights, dtype=float)
    return make_matrix(x, kind=SignalKind.ANOMALY_RATE, step=HOUR, weights=w[None, :])


def test_ooni_parameters_give_threshold_seven():
    assert CusumParams().h == pytest.approx(7.0)
    assert CusumParams().k == pytest.approx(0.35)


def test_onset_and_end_are_the_changepoints_not_the_alarms():
    x = [0.0] * 50 + [0.75] * 40 + [0.0] * 40
    [d] = detect_matrix(rates(x), CUSUM)
    assert d.start == ORIGIN + 50 * HOUR  # where the upward sum left zero
    assert d.end == ORIGIN + 90 * HOUR  # where the downward sum left zero
    assert d.alerted_at == ORIGIN + (50 + 18) * HOUR  # 18 x (0.75 - 0.35) >= 7
    assert d.level is Level.CRITICAL


def test_weights_count_as_measurements():
    x = [0.0] * 10 + [0.75] * 3 + [0.0] * 10
    [d] = detect_matrix(rates(x, [1.0] * 10 + [6.0] * 3 + [1.0] * 10), CUSUM)
    assert d.start == ORIGIN + 10 * HOUR and d.alerted_at == ORIGIN + 13 * HOUR


def test_a_data_gap_is_not_an_event():
    x = [0.0] * 30 + [np.nan] * 72 + [0.0] * 30
    assert detect_matrix(rates(x), CUSUM) == []


def test_silence_decays_the_evidence():
    """Ten blocked measurements, two days of silence, ten more: the first ten have lost half their weight."""
    x = [0.75] * 10 + [np.nan] * 48 + [0.75] * 10
    assert detect_matrix(rates(x), CUSUM) == []  # 4 + 4 without decay would be 8 > 7
    no_decay = CusumDetector(CusumParams(gap_halflife=timedelta(days=10_000)))
    assert len(detect_matrix(rates(x), no_decay)) == 1


def test_isolated_anomalies_do_not_alarm():
    x = ([0.0] * 5 + [0.9]) * 30
    assert detect_matrix(rates(x), CUSUM) == []


def test_blocking_to_the_end_is_ongoing_and_resumes():
    x = [0.0] * 10 + [0.8] * 30
    m = rates(x)
    state = CUSUM.initial(m.meta)
    found1, state = CUSUM.run(state, m.values[:, :30], m.weights[:, :30])
    found2, state = CUSUM.run(state, m.values[:, 30:], m.weights[:, 30:])
    assert len(found1.raised) == 1 and not found2.raised
    [ongoing] = CUSUM.ongoing(state)
    assert ongoing.end is None and ongoing.start == ORIGIN + 10 * HOUR
    assert detect_matrix(m, CUSUM) == [ongoing]
