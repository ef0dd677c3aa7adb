"""Seeded synthetic signals with known outages, for tests, evaluation and the benchmark.

A series is ``level x (1 + seasonality sin(2 pi t / day + phase)) x (1 + noise N(0, 1))``
with random missing points and random data gaps, and each injected outage
multiplies its bins by ``1 - depth``.  Everything is a ``numpy`` matrix (entities x
bins), so 10,000 entities x 30 days of 5-minute bins is generated in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Outage:
    """An injected drop: bins ``[start, start + length)`` of row ``entity`` lose ``depth`` of their value."""

    entity: int
    start: int
    length: int
    depth: float

    @property
    def end(self) -> int:
        return self.start + self.length


@dataclass(frozen=True, slots=True, kw_only=True)
class Shape:
    """How a clean series looks; the defaults resemble IODA's active-probing counts."""

    level: float = 1000.0  # typical value (e.g. /24 blocks up)
    level_spread: float = 0.5  # entity levels vary by up to +-50 %
    seasonality: float = 0.08  # daily relative amplitude
    noise: float = 0.02  # relative standard deviation per bin
    missing: float = 0.01  # share of bins missing at random
    gaps_per_month: float = 2.0  # multi-bin data gaps (collector down), 1-12 bins long


def clean_matrix(rng: np.random.Generator, *, entities: int, bins: int, step: timedelta,
                 shape: Shape = Shape(), dtype: type[np.floating[Any]] = np.float64) -> np.ndarray:
    """A clean (outage-free) matrix with seasonality, noise, missing points and data gaps."""
    t = np.arange(bins, dtype=dtype) * (step / DAY)
    level = shape.level * (1.0 + shape.level_spread * rng.uniform(-1.0, 1.0, size=(entities, 1))).astype(dtype)
    phase = rng.uniform(0.0, 2 * np.pi, size=(entities, 1)).astype(dtype)
    values = level * (1.0 + shape.seasonality * np.sin(2 * np.pi * t[None, :] + phase))
    values *= 1.0 + shape.noise * rng.standard_normal((entities, bins), dtype=dtype)
    values[rng.random((entities, bins), dtype=dtype) < shape.missing] = np.nan
    _add_gaps(rng, values, shape.gaps_per_month * bins * (step / (30 * DAY)))
    return values


def random_outages(rng: np.random.Generator, *, entities: int, bins: int, per_entity: int, min_length: int,
                   max_length: int, min_depth: float, max_depth: float, first_bin: int) -> list[Outage]:
    """``per_entity`` non-overlapping outages per row, all starting at or after ``first_bin``.

    Each row's span after ``first_bin`` is cut into equal slots, one outage per slot,
    so outages are at least a slot's spare bins apart and never merge.
    """
    slot = (bins - first_bin) // per_entity
    if slot < max_length + 2:
        raise ValueError(f"{per_entity} outages of up to {max_length} bins do not fit in {bins - first_bin} bins")
    outages = []
    for e in range(entities):
        for k in range(per_entity):
            length = int(rng.integers(min_length, max_length + 1))
            start = first_bin + k * slot + int(rng.integers(0, slot - length - 1))
            outages.append(Outage(entity=e, start=start, length=length,
                                  depth=float(rng.uniform(min_depth, max_depth))))
    return outages


def inject(values: np.ndarray, outages: list[Outage]) -> np.ndarray:
    """A copy of ``values`` with every outage applied."""
    out = values.copy()
    for o in outages:
        out[o.entity, o.start:o.end] *= 1.0 - o.depth
    return out


def _add_gaps(rng: np.random.Generator, values: np.ndarray, expected: float) -> None:
    entities, bins = values.shape
    count = int(rng.poisson(expected * entities))
    rows = rng.integers(0, entities, count)
    starts = rng.integers(0, bins, count)
    lengths = rng.integers(1, 13, count)
    for row, start, length in zip(rows, starts, lengths, strict=True):
        values[row, start:start + length] = np.nan


# --- the shapes of issue 11: low counts, recurring curfews, ragged multi-region blackouts -------


def diurnal_counts(rng: np.random.Generator, *, entities: int, bins: int, step: timedelta, low: float,
                   high: float, missing: float = 0.0) -> np.ndarray:
    """Poisson counts per bin whose hourly rate follows a daily cycle between ``low`` and ``high``.

    Each entity has its own phase (its own local time).  This is what a small
    region's responsive addresses look like: 2 to 12 an hour, fewer at night.
    """
    hours = np.arange(bins) * (step / timedelta(hours=1))
    phase = rng.uniform(0.0, 24.0, size=(entities, 1))
    rate = (low + high) / 2 + (high - low) / 2 * np.sin(2 * np.pi * (hours[None, :] - phase) / 24.0)
    counts = rng.poisson(rate * (step / timedelta(hours=1))).astype(float)
    counts[rng.random(counts.shape) < missing] = np.nan
    return counts


def curfew_bins(*, bins: int, step: timedelta, first_night: int, nights: int, start: timedelta,
                length: timedelta) -> list[tuple[int, int]]:
    """``[start, end)`` bins of a nightly shutdown: every day from ``first_night`` for ``nights`` days,
    from ``start`` after midnight of the grid's origin day (UTC) for ``length``."""
    out = []
    for night in range(first_night, first_night + nights):
        a = int((night * DAY + start) / step)
        b = int((night * DAY + start + length) / step)
        if b <= bins:
            out.append((a, b))
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Blackout:
    """Where each region's blackout starts, where it is fully back, in bins."""

    onsets: tuple[int, ...]
    recovered: tuple[int, ...]


def ragged_blackout(rng: np.random.Generator, values: np.ndarray, *, step: timedelta, start: int,
                    spread: timedelta = timedelta(hours=1), down: tuple[timedelta, timedelta] = (
                        timedelta(hours=3), timedelta(hours=30)),
                    ramp: tuple[timedelta, timedelta] = (timedelta(hours=2), timedelta(hours=12))) -> Blackout:
    """A national power blackout, in place: every row goes down within ``spread`` of ``start``, to 0-10 %,
    stays down for a random time in ``down``, then comes back raggedly over a random time in ``ramp``:
    a noisy climb from 10 % to 100 % with relapses, as grids are restored feeder by feeder."""
    onsets, recovered = [], []
    for row in range(values.shape[0]):
        onset = start + int(rng.integers(0, max(1, int(spread / step))))
        stay = int(rng.uniform(down[0] / step, down[1] / step))
        climb = max(2, int(rng.uniform(ramp[0] / step, ramp[1] / step)))
        values[row, onset:onset + stay] *= rng.uniform(0.0, 0.1)
        share = np.linspace(0.1, 1.0, climb) + rng.normal(0.0, 0.12, climb)
        relapses = rng.random(climb) < 0.08
        share[relapses] *= rng.uniform(0.2, 0.6, int(relapses.sum()))
        end = min(values.shape[1], onset + stay + climb)
        values[row, onset + stay:end] *= np.clip(share[:end - onset - stay], 0.0, 1.0)
        onsets.append(onset)
        recovered.append(end)
    return Blackout(onsets=tuple(onsets), recovered=tuple(recovered))
