"""The time-of-day baseline: daily cycles are not outages, shutdowns after a trough keep their start,
recurring shutdowns stay shutdowns, and missing days or a bad start do not raise alarms.

Series follow the case reported against the plain moving median: an hourly
index ``5000 x (1 + a sin(2 pi (h - 6) / 24)) x N(1, 0.03)`` with ``h`` the UTC
hour, whose trough is at midnight UTC.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from detect_helpers import ORIGIN, make_matrix
from hypothesis import given, settings
from hypothesis import strategies as st

from netvigil.detect.base import detect_matrix
from netvigil.detect.incidents import merge_incidents
from netvigil.detect.ratio import KIND_PARAMS, RatioDetector
from netvigil.detect.records import Detection, Level, SignalKind
from netvigil.detect.season import DAILY, FLAT, UNDECIDED, SeasonParams, baseline, daily_strength

HOUR = timedelta(hours=1)
PARAMS = KIND_PARAMS[SignalKind.ACTIVE_PROBING]
PROBING = RatioDetector(PARAMS)
PLAIN_MEDIAN = RatioDetector(replace(PARAMS, season=None))  # IODA's moving median alone


def diurnal(days: int, amplitude: float = 0.25, step: timedelta = HOUR, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    hours = np.arange(int(days * timedelta(days=1) / step)) * (step / HOUR)
    return 5000.0 * (1.0 + amplitude * np.sin(2 * np.pi * (hours - 6) / 24)) * rng.normal(1.0, 0.03, hours.size)


def detect(x: np.ndarray, step: timedelta = HOUR, detector: RatioDetector = PROBING) -> list[Detection]:
    return detect_matrix(make_matrix(x, step=step), detector)


def bin_of(hours: float, step: timedelta = HOUR) -> int:
    return int(hours * HOUR / step)


def test_a_nightly_trough_is_not_an_outage():
    x = diurnal(14)
    assert detect(x) == []
    nightly = detect(x, detector=PLAIN_MEDIAN)  # the reported behaviour: a warning every night
    assert len(nightly) >= 12 and {d.level for d in nightly} == {Level.WARNING}


@pytest.mark.parametrize("amplitude", [0.25, 0.4])
@pytest.mark.parametrize("step", [HOUR, timedelta(minutes=5)], ids=["hourly", "5-minute"])
def test_a_shutdown_right_after_the_trough_keeps_its_own_start(amplitude: float, step: timedelta):
    """The shutdown begins at 03:00 UTC, as the night's trough (around midnight) ends."""
    x = diurnal(12, amplitude, step)
    start, end = bin_of(9 * 24 + 3, step), bin_of(9 * 24 + 9, step)
    x[start:end] *= 0.05
    [incident] = merge_incidents(detect(x, step))
    assert abs(incident.start - (ORIGIN + start * step)) <= step
    assert incident.end == ORIGIN + end * step and incident.level is Level.CRITICAL


def test_a_nightly_curfew_stays_an_outage_every_night():
    """Myanmar 2021-style: 8 hours cut every night for two weeks, after a normal week."""
    x = diurnal(21)
    nights = range(7, 21)
    for night in nights:
        x[night * 24 - 6:night * 24 + 2] *= 0.05
    found = detect(x)
    assert [d.start for d in found] == [ORIGIN + (night * 24 - 6) * HOUR for night in nights]
    assert {d.level for d in found} == {Level.CRITICAL}


def test_a_curfew_running_from_the_first_day_is_not_learned_as_the_shape_of_the_day():
    x = diurnal(14)
    for night in range(1, 15):
        x[night * 24 - 6:night * 24 + 2] *= 0.05
    found = detect(x)
    assert len(found) >= 12 and {d.level for d in found} == {Level.CRITICAL}


@pytest.mark.parametrize("amplitude", [0.25, 0.4])
def test_a_three_day_outage_keeps_its_baseline_and_its_end(amplitude: float):
    x = diurnal(16, amplitude)
    x[8 * 24 + 13:11 * 24 + 13] *= 0.1
    [d] = detect(x)
    assert (d.start, d.end) == (ORIGIN + (8 * 24 + 13) * HOUR, ORIGIN + (11 * 24 + 13) * HOUR)


def test_a_cold_start_into_an_outage_does_not_lock_the_outage_in():
    """Two of the first three days are down: the profile must still learn the normal day afterwards."""
    x = diurnal(21, 0.4)
    x[24:3 * 24] *= 0.1
    late = [d for d in detect(x) if d.start >= ORIGIN + 10 * 24 * HOUR]
    assert late == []


def test_missing_days_do_not_raise_alarms_and_outages_after_them_are_found():
    x = diurnal(16, 0.4)
    x[6:20] = np.nan  # most of the first day
    x[4 * 24:6 * 24] = np.nan  # two whole days
    x[12 * 24 + 5:12 * 24 + 8] *= 0.3
    [d] = detect(x)
    assert (d.start, d.end) == (ORIGIN + (12 * 24 + 5) * HOUR, ORIGIN + (12 * 24 + 8) * HOUR)


def test_strength_separates_a_daily_cycle_from_noise():
    rng = np.random.default_rng(5)
    noise = rng.normal(1000.0, 30.0, (1, 7 * 24))
    cycle = diurnal(7)[None, :]
    assert daily_strength(noise, 24)[0] < SeasonParams().strength
    assert daily_strength(cycle, 24)[0] > 0.9
    assert np.isnan(daily_strength(np.where(np.arange(7 * 24) < 24, cycle, np.nan), 24)[0])  # one day: undecided


def test_the_baseline_of_each_mode():
    level, expected = np.full(4, 100.0), np.array([60.0, 60.0, 60.0, 140.0])
    days = np.array([3, 2, 3, 3])
    modes = np.array([DAILY, DAILY, UNDECIDED, FLAT])
    got = baseline(level, expected, days, modes, SeasonParams())
    assert got.tolist() == [60.0, 60.0, 60.0, 100.0]  # trusted slot, cautious, cautious, moving median
    assert baseline(level[:1], np.array([140.0]), np.array([2]), modes[:1], SeasonParams())[0] == 100.0


def test_bins_that_do_not_tile_a_day_keep_the_moving_median():
    meta = make_matrix(np.ones(10), step=timedelta(minutes=7)).meta
    assert PROBING.initial(meta).daily is None
    assert PROBING.initial(make_matrix(np.ones(10), step=timedelta(minutes=10)).meta).daily is not None


def shutdown_series() -> np.ndarray:
    x = diurnal(10, 0.4)
    x[8 * 24 + 3:8 * 24 + 9] *= 0.05
    x[5 * 24 + 10:5 * 24 + 13] = np.nan
    x[-5:] *= 0.1
    return x


def run_in_chunks(x: np.ndarray, cuts: list[int]) -> list[Detection]:
    m = make_matrix(x, step=HOUR)
    state, found = PROBING.initial(m.meta), []
    for a, b in zip([0, *cuts], [*cuts, x.size], strict=True):
        chunk, state = PROBING.run(state, m.values[:, a:b], m.weights[:, a:b])
        found += chunk.closed
    return sorted(found + PROBING.ongoing(state), key=lambda d: d.start)


def test_bin_by_bin_gives_the_batch_answer_on_a_daily_signal():
    x = shutdown_series()
    batch = detect(x)
    assert len(batch) == 2 and batch[-1].end is None
    assert run_in_chunks(x, list(range(1, x.size))) == batch


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=10 * 24 - 1), max_size=8, unique=True))
def test_chunked_runs_give_the_batch_answer_on_a_daily_signal(cuts):
    x = shutdown_series()
    assert run_in_chunks(x, sorted(cuts)) == detect(x)
