"""The moving-median ratio detector on step series whose answer is known."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from detect_helpers import ORIGIN, make_matrix
from hypothesis import given, settings
from hypothesis import strategies as st

from netvigil.detect.base import detect_matrix
from netvigil.detect.medians import nanmedian_rows
from netvigil.detect.ratio import KIND_PARAMS, RatioDetector, RatioParams
from netvigil.detect.records import Level, SignalKind

STEP = timedelta(minutes=5)
DAY_BINS = 288
PROBING = RatioDetector(KIND_PARAMS[SignalKind.ACTIVE_PROBING])


def flat(days: float = 3, level: float = 1000.0) -> np.ndarray:
    return np.full(int(days * DAY_BINS), level)


def test_a_drop_is_found_with_its_start_end_and_level():
    x = flat()
    x[700:712] = 300.0  # 70 % drop for an hour
    [d] = detect_matrix(make_matrix(x), PROBING)
    assert (d.start, d.end) == (ORIGIN + 700 * STEP, ORIGIN + 712 * STEP)
    assert d.level is Level.CRITICAL
    assert d.area == pytest.approx(70.0 * 5 * 12)  # relative drop in % x minutes (IODA Alert Area)
    assert d.alerted_at == ORIGIN + 702 * STEP  # reportable at the end of the second abnormal bin


def test_warning_level_between_the_thresholds():
    x = flat()
    x[700:710] = 700.0  # ratio 0.7: below 0.8 (warning), above 0.5 (critical)
    [d] = detect_matrix(make_matrix(x), PROBING)
    assert d.level is Level.WARNING


def test_one_abnormal_bin_is_not_reported():
    x = flat()
    x[700] = 0.0
    assert detect_matrix(make_matrix(x), PROBING) == []


def test_missing_points_are_not_an_outage():
    x = flat()
    x[700:760] = np.nan  # five hours without data
    x[::7] = np.nan
    assert detect_matrix(make_matrix(x), PROBING) == []


def test_a_missing_bin_inside_an_outage_is_bridged():
    x = flat()
    x[700:720] = 100.0
    x[710] = np.nan
    [d] = detect_matrix(make_matrix(x), PROBING)
    assert (d.start, d.end) == (ORIGIN + 700 * STEP, ORIGIN + 720 * STEP)


def test_an_outage_at_the_end_of_the_data_is_ongoing():
    x = flat()
    x[-30:] = 10.0
    [d] = detect_matrix(make_matrix(x), PROBING)
    assert d.end is None


def test_nothing_is_judged_during_warmup():
    x = flat(days=2)
    x[10:40] = 0.0  # in the first day: no baseline yet
    assert detect_matrix(make_matrix(x), PROBING) == []


def test_small_entities_are_not_judged():
    x = flat(level=10.0)  # below IODA's minprediction of 20
    x[700:720] = 0.0
    assert detect_matrix(make_matrix(x), PROBING) == []


def test_inpainting_keeps_the_baseline_through_a_long_outage():
    """A BGP outage longer than its 24 h window stays detected: the outage never enters the history."""
    bgp = KIND_PARAMS[SignalKind.BGP]
    x = flat(days=4)
    x[2 * DAY_BINS:int(3.5 * DAY_BINS)] = 400.0
    [d] = detect_matrix(make_matrix(x, kind=SignalKind.BGP), RatioDetector(bgp))
    assert d.end == ORIGIN + int(3.5 * DAY_BINS) * STEP
    without = RatioDetector(RatioParams(window=bgp.window, warning=bgp.warning, critical=bgp.critical,
                                        inpaint_min=0.0, inpaint_max=np.inf))
    ended_early = detect_matrix(make_matrix(x, kind=SignalKind.BGP), without)
    assert ended_early[0].end < d.end  # the unprotected median drifts down and calls it over


def test_a_level_shift_is_accepted_after_the_maximum_inpainting_duration():
    params = RatioParams(window=timedelta(days=1), warning=0.8, critical=0.5,
                         inpaint_max_duration=timedelta(hours=12))
    x = flat(days=4)
    x[2 * DAY_BINS:] = 400.0  # permanent drop
    [d] = detect_matrix(make_matrix(x), RatioDetector(params))
    assert d.end is not None and d.end - d.start < timedelta(hours=14)


def test_entities_are_independent_rows():
    x = np.vstack([flat(), flat(level=500.0)])
    x[1, 700:720] = 0.0
    [d] = detect_matrix(make_matrix(x), PROBING)
    assert d.entity == "E1"


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=3 * DAY_BINS - 1), max_size=6, unique=True))
def test_chunked_runs_give_the_batch_answer(cuts):
    """Resumable: feeding the bins in any chunks yields the same detections as one batch."""
    x = flat()
    x[400:420] = 100.0
    x[600:603] = 600.0
    x[-50:] = 0.0
    m = make_matrix(x)
    batch = detect_matrix(m, PROBING)
    state, found = PROBING.initial(m.meta), []
    for a, b in zip([0, *sorted(cuts)], [*sorted(cuts), x.size], strict=True):
        chunk, state = PROBING.run(state, m.values[:, a:b], m.weights[:, a:b])
        found += chunk.closed
    assert sorted(found + PROBING.ongoing(state), key=lambda d: d.start) == batch


def test_nanmedian_rows_ignores_missing_values():
    a = np.array([[1.0, np.nan, 3.0, 2.0], [np.nan] * 4, [4.0, 1.0, np.nan, np.nan]])
    got = nanmedian_rows(a)
    assert got[0] == 2.0 and np.isnan(got[1]) and got[2] == 2.5
