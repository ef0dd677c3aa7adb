"""Acceptance of issue 11 on synthetic series: what real shutdowns look like.

- small regions with low counts (2 to 12 answers an hour): 8 hours of 0 found within 1 hour of onset;
- a nightly curfew for 70 nights (Myanmar 2021: 01:00-09:00 local = 18:30-02:30 UTC): every night
  found within 1 hour of its onset, the 60th as the first;
- a national power blackout over 13 regions, down within an hour, back raggedly: one onset per
  region within 2 hours, at most 3 false alarms in total;
- 0 incidents on 30 clean days of each series type.

Every generator is seeded (:mod:`netvigil.detect.synthetic`), so every run sees the same data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pytest
from detect_helpers import ORIGIN, make_matrix

from netvigil.detect.base import default_detectors, detect_all, detect_matrix
from netvigil.detect.incidents import RECOVERY, merge_incidents
from netvigil.detect.kind import classify, watched_kinds
from netvigil.detect.records import GOVERNMENT_SHUTDOWN, POWER_OR_NATURAL_OUTAGE, Incident, SignalKind
from netvigil.detect.synthetic import Shape, clean_matrix, curfew_bins, diurnal_counts, ragged_blackout

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
ENTITIES = 10


def incidents(values: np.ndarray, step: timedelta, kind: SignalKind = SignalKind.ACTIVE_PROBING) -> list[Incident]:
    matrix = make_matrix(values, step=step, kind=kind)
    found = merge_incidents(detect_matrix(matrix, default_detectors()[kind]), recovery=RECOVERY)
    return classify(found, until=matrix.meta.time(matrix.bins))


def of(found: list[Incident], row: int) -> list[Incident]:
    return [i for i in found if i.entity == f"E{row}"]


@dataclass(frozen=True)
class SeriesType:
    name: str
    step: timedelta
    make: Callable[[np.random.Generator, int], np.ndarray]
    kind: SignalKind = SignalKind.ACTIVE_PROBING


SERIES = [
    SeriesType("low counts, 2-12 an hour, hourly", HOUR,
               lambda rng, bins: diurnal_counts(rng, entities=ENTITIES, bins=bins, step=HOUR, low=2, high=12)),
    SeriesType("low counts, 1-6 an hour, 10-minute bins", timedelta(minutes=10),
               lambda rng, bins: diurnal_counts(rng, entities=ENTITIES, bins=bins, step=timedelta(minutes=10),
                                                low=1, high=6)),
    SeriesType("responsive /24s, 120-280 per 10 minutes", timedelta(minutes=10),
               lambda rng, bins: diurnal_counts(rng, entities=ENTITIES, bins=bins, step=timedelta(minutes=10),
                                                low=720, high=1680)),
    SeriesType("probing index, diurnal 0.25, 5-minute bins", timedelta(minutes=5),
               lambda rng, bins: clean_matrix(rng, entities=ENTITIES, bins=bins, step=timedelta(minutes=5),
                                              shape=Shape(seasonality=0.25, noise=0.03))),
    SeriesType("hourly connectivity index (Monash-like)", HOUR,
               lambda rng, bins: clean_matrix(rng, entities=ENTITIES, bins=bins, step=HOUR,
                                              shape=Shape(level=95.0, level_spread=0.05, seasonality=0.03,
                                                          noise=0.03))),
    SeriesType("BGP visible /24s", timedelta(minutes=5),
               lambda rng, bins: np.round(clean_matrix(rng, entities=ENTITIES, bins=bins, step=timedelta(minutes=5),
                                                       shape=Shape(seasonality=0.001, noise=0.002))),
               SignalKind.BGP),
    SeriesType("telescope unique sources", timedelta(minutes=5),
               lambda rng, bins: clean_matrix(rng, entities=ENTITIES, bins=bins, step=timedelta(minutes=5),
                                              shape=Shape(seasonality=0.3, noise=0.1)), SignalKind.TELESCOPE),
]


@pytest.mark.parametrize("series", SERIES, ids=lambda s: s.name)
def test_thirty_clean_days_raise_nothing(series: SeriesType):
    values = series.make(np.random.default_rng(30), int(30 * DAY / series.step))
    assert incidents(values, series.step, series.kind) == []


# --- low counts ---------------------------------------------------------------------------------


def test_eight_hours_of_zero_on_two_to_twelve_an_hour_within_an_hour_of_onset():
    rng = np.random.default_rng(8)
    days, rows = 21, 20
    values = diurnal_counts(rng, entities=rows, bins=days * 24, step=HOUR, low=2, high=12)
    onsets = rng.integers(8 * 24, 20 * 24, rows)
    for row, onset in enumerate(onsets):
        values[row, onset:onset + 8] = 0.0
    found = incidents(values, HOUR)
    for row, onset in enumerate(onsets):
        [incident] = of(found, row)
        assert abs(incident.start - (ORIGIN + int(onset) * HOUR)) <= HOUR
        assert incident.confidence > 0.999  # certain


def test_the_count_judgement_tells_certainty_from_noise():
    rng = np.random.default_rng(6)
    normal = rng.poisson(6.0, 14 * 24).astype(float)
    noise = normal.copy()
    noise[10 * 24:10 * 24 + 8] = 4.0  # 4 instead of 6: noise
    zero = normal.copy()
    zero[10 * 24:10 * 24 + 8] = 0.0  # 0 instead of 6 for 8 hours: certain
    assert incidents(noise, HOUR) == []
    [found] = incidents(zero, HOUR)
    assert found.start == ORIGIN + 10 * 24 * HOUR and found.end == ORIGIN + (10 * 24 + 8) * HOUR
    assert found.confidence == pytest.approx(1.0)
    assert found.detections[0].method == "count-cusum"


def test_an_index_is_not_judged_as_counts():
    """A 0-100 index with small values is no count: the Poisson law does not hold for it."""
    rng = np.random.default_rng(3)
    index = 6.0 + rng.normal(0.0, 0.3, 14 * 24)
    index[10 * 24:10 * 24 + 8] = 0.5
    assert incidents(index, HOUR) == []


# --- recurring curfews ----------------------------------------------------------------------------


@pytest.mark.parametrize("series", [SERIES[0], SERIES[2], SERIES[3]], ids=lambda s: s.name)
def test_every_night_of_a_seventy_night_curfew_within_an_hour_of_onset(series: SeriesType):
    """Two clean weeks, then 01:00-09:00 Myanmar time (18:30-02:30 UTC) for 70 nights."""
    step = series.step
    bins = int(85 * DAY / step)
    values = series.make(np.random.default_rng(2021), bins)
    nights = curfew_bins(bins=bins, step=step, first_night=14, nights=70, start=timedelta(hours=18, minutes=30),
                         length=8 * HOUR)
    assert len(nights) == 70
    for a, b in nights:
        values[:, a:b] = np.where(np.isnan(values[:, a:b]), np.nan, 0.0)
    found = incidents(values, step)
    for row in range(ENTITIES):
        mine = of(found, row)
        assert len(mine) == 70
        for (a, _), incident in zip(nights, mine, strict=True):
            assert abs(incident.start - (ORIGIN + a * step)) <= HOUR
        assert {i.kind for i in mine[2:]} == {GOVERNMENT_SHUTDOWN}  # recurrence from the third night


# --- ragged multi-region blackout -----------------------------------------------------------------

REGIONS = tuple(f"NG/R{r:02d}" for r in range(13))


@pytest.mark.parametrize("seed", range(4))
def test_a_thirteen_region_blackout_one_onset_per_region_and_at_most_three_false_alarms(seed: int):
    """Probing drops in 13 regions within an hour and comes back raggedly; BGP, watched too, stays up."""
    step = timedelta(minutes=10)
    rng = np.random.default_rng(seed)
    bins = int(14 * DAY / step)
    probing = clean_matrix(rng, entities=13, bins=bins, step=step,
                           shape=Shape(level=800.0, level_spread=0.9, seasonality=0.2, noise=0.03))
    blackout = ragged_blackout(rng, probing, step=step, start=int((10 * DAY + 17 * HOUR) / step),
                               down=(3 * HOUR, 12 * HOUR))
    bgp = np.round(clean_matrix(rng, entities=13, bins=bins, step=step, shape=Shape(seasonality=0.001, noise=0.002)))
    matrices = [make_matrix(probing, step=step, entities=REGIONS, source="probing"),
                make_matrix(bgp, step=step, entities=REGIONS, kind=SignalKind.BGP, source="bgp")]
    watched = watched_kinds((e, m.meta.kind) for m in matrices for e in m.meta.entities)
    found = classify(merge_incidents(detect_all(matrices), recovery=RECOVERY), watched,
                     until=matrices[0].meta.time(bins))
    false_alarms = 0
    for row, region in enumerate(REGIONS):
        onset = ORIGIN + blackout.onsets[row] * step
        mine = [i for i in found if i.entity == region]
        near = [i for i in mine if abs(i.start - onset) <= 2 * HOUR]
        assert len(near) == 1
        false_alarms += len(mine) - 1
    assert false_alarms <= 3
    kinds = [i.kind for i in found]
    assert GOVERNMENT_SHUTDOWN not in kinds
    assert kinds.count(POWER_OR_NATURAL_OUTAGE) >= 10
    assert any("Ragged recovery" in e for i in found for e in i.kind_evidence)
    assert any("BGP routes stayed announced" in e for i in found for e in i.kind_evidence)
