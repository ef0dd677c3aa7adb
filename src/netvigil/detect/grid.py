"""Signals on a regular time grid: one matrix of entities x bins per source.

Detectors work on ``numpy`` matrices, not on Python objects, so that thousands of
entities are processed at once (issue 5's benchmark is 10,000 entities x 30 days
of 5-minute bins).  A bin with no point holds ``NaN`` and weight 0: missing, never
zero.  Several points falling in one bin are averaged, weighted by their
``weight`` (how OONI measurements become an hourly anomaly rate).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

import numpy as np

from netvigil.detect.records import SignalKind, SignalPoint
from netvigil.model.times import floor_time


# Bin size used when a source's own step cannot be seen in its data (a single time)
# or must be imposed (measurements at irregular times).  IODA native steps from its
# datasource registry (research notes §1.1); hourly anomaly rates are OONI's
# "cell state" grain (target x network x layer x hour, notes ooni-format §7.2).
DEFAULT_STEPS: Mapping[SignalKind, timedelta] = {
    SignalKind.BGP: timedelta(seconds=300),
    SignalKind.ACTIVE_PROBING: timedelta(seconds=600),
    SignalKind.TELESCOPE: timedelta(seconds=300),
    SignalKind.REACHABILITY: timedelta(seconds=600),
    SignalKind.ANOMALY_RATE: timedelta(hours=1),
}
# Kinds whose points come at irregular times and are binned onto UTC-aligned bins.
BINNED_KINDS = frozenset({SignalKind.ANOMALY_RATE})


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesMeta:
    """What the rows and columns of a signal matrix are."""

    source: str
    kind: SignalKind
    entities: tuple[str, ...]
    origin: datetime  # start of bin 0
    step: timedelta

    def time(self, index: int) -> datetime:
        return self.origin + index * self.step


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SignalMatrix:
    """``values[e, t]`` is entity ``e``'s value in bin ``t`` (NaN when missing); ``weights`` alike (0 when missing)."""

    meta: SeriesMeta
    values: np.ndarray
    weights: np.ndarray

    @property
    def bins(self) -> int:
        return int(self.values.shape[1])


def to_matrices(points: Iterable[SignalPoint],
                steps: Mapping[SignalKind, timedelta] | None = None) -> list[SignalMatrix]:
    """Group points by (source, kind) and lay each group on its own grid.

    The step is ``steps[kind]`` when given, else the most common gap between an
    entity's consecutive times (IODA, Monash and probe rounds are regular), else
    :data:`DEFAULT_STEPS`.  Binned kinds start on a UTC multiple of the step;
    others start at their first time so that bins keep the source's own labels
    (Monash hours fall on :30 UTC).
    """
    groups: dict[tuple[str, SignalKind], list[SignalPoint]] = defaultdict(list)
    for point in points:
        groups[(point.source, point.kind)].append(point)
    chosen = {**DEFAULT_STEPS, **(steps or {})}
    out = []
    for (source, kind), group in sorted(groups.items()):
        step = chosen[kind] if kind in BINNED_KINDS or (steps and kind in steps) else _inferred_step(group, chosen[kind])
        out.append(_matrix(source, kind, group, step))
    return out


def _inferred_step(points: list[SignalPoint], fallback: timedelta) -> timedelta:
    by_entity: dict[str, set[datetime]] = defaultdict(set)
    for p in points:
        by_entity[p.entity].add(p.time)
    gaps: Counter[timedelta] = Counter()
    for times in by_entity.values():
        ordered = sorted(times)
        gaps.update(b - a for a, b in pairwise(ordered))
    return gaps.most_common(1)[0][0] if gaps else fallback


def _matrix(source: str, kind: SignalKind, points: list[SignalPoint], step: timedelta) -> SignalMatrix:
    first = min(p.time for p in points)
    origin = floor_time(first, step) if kind in BINNED_KINDS else first
    entities = tuple(sorted({p.entity for p in points}))
    row = {e: i for i, e in enumerate(entities)}
    step_s = step.total_seconds()
    rows = np.fromiter((row[p.entity] for p in points), np.int64, len(points))
    cols = np.fromiter(((p.time - origin).total_seconds() // step_s for p in points), np.int64, len(points))
    vals = np.fromiter((p.value for p in points), np.float64, len(points))
    wts = np.fromiter((p.weight for p in points), np.float64, len(points))
    shape = (len(entities), int(cols.max()) + 1)
    flat = rows * shape[1] + cols
    weights = np.bincount(flat, weights=wts, minlength=shape[0] * shape[1]).reshape(shape)
    weighted = np.bincount(flat, weights=vals * wts, minlength=shape[0] * shape[1]).reshape(shape)
    values = np.full(shape, np.nan)
    np.divide(weighted, weights, out=values, where=weights > 0)  # weight 0 (no probe sent) is missing
    meta = SeriesMeta(source=source, kind=kind, entities=entities, origin=origin, step=step)
    return SignalMatrix(meta=meta, values=values, weights=weights)
