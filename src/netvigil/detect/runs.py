"""From per-bin alert levels to detections: runs of abnormal bins, resumable chunk by chunk.

A run starts at an abnormal bin and is closed by the first normal bin after it;
missing bins never close a run (a missing point is not evidence of anything), and
up to ``max_gap`` of them are bridged when the next bin is abnormal again.  A run
is reported once it holds ``min_bins`` abnormal bins at ``min_level`` or above:
IODA's sink waits a minimum duration before emitting and keeps the original start
time (watchtower-sentry ``AlertKafka`` ``minduration``, research notes §1.4).

The same code serves batch detection (one chunk holding the whole history) and
streaming (one bin per chunk), so both give the same detections.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from netvigil.detect.grid import SeriesMeta
from netvigil.detect.records import Detection, Level

MISSING = -1  # level code of a bin with no value, or no baseline yet


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRules:
    min_bins: int  # abnormal bins before a run is reported
    min_level: Level  # a run below this level is never reported
    max_gap: int  # missing bins bridged inside a run


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStats:
    n_abnormal: int
    n_critical: int
    sum_drop: float  # sum over abnormal bins of the relative drop in [0, 1]
    max_drop: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Findings:
    """What one chunk changed: runs that became reportable, and reported runs that ended."""

    raised: tuple[Detection, ...] = ()
    closed: tuple[Detection, ...] = ()

    def __add__(self, other: Findings) -> Findings:
        return Findings(raised=self.raised + other.raised, closed=self.closed + other.closed)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reporter:
    """How a detector turns a run into a :class:`Detection`."""

    meta: SeriesMeta
    method: str
    rules: RunRules
    confidence: Callable[[RunStats], float]

    def level(self, n_abnormal: int, n_critical: int) -> Level:
        if n_critical >= self.rules.min_bins:
            return Level.CRITICAL
        return Level.WARNING if n_abnormal >= self.rules.min_bins else Level.NORMAL

    def detection(self, run: _Run, row: int, *, ongoing: bool) -> Detection:
        stats = run.stats()
        meta = self.meta
        return Detection(
            entity=meta.entities[row], source=meta.source, kind=meta.kind, method=self.method,
            start=meta.time(run.start), end=None if ongoing else meta.time(run.last + 1), step=meta.step,
            level=self.level(run.n_abnormal, run.n_critical),
            area=run.sum_drop * 100.0 * meta.step.total_seconds() / 60.0,
            confidence=self.confidence(stats), alerted_at=meta.time(run.alert_at + 1),
        )


@dataclass(slots=True)
class _Run:
    start: int
    last: int
    alert_at: int = -1
    n_abnormal: int = 0
    n_critical: int = 0
    sum_drop: float = 0.0
    max_drop: float = 0.0

    def stats(self) -> RunStats:
        return RunStats(n_abnormal=self.n_abnormal, n_critical=self.n_critical,
                        sum_drop=self.sum_drop, max_drop=self.max_drop)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunState:
    """The open run of each entity (at most one), by row."""

    open: dict[int, _Run] = field(default_factory=dict)


def track(state: RunState, reporter: Reporter, levels: np.ndarray, drops: np.ndarray,
          offset: int) -> tuple[Findings, RunState]:
    """Advance every entity's run over one chunk of bins starting at grid index ``offset``."""
    open_runs = {row: replace(run) for row, run in state.open.items()}
    found = Findings()
    rows = set(np.flatnonzero((levels > 0).any(axis=1)).tolist())
    rows |= {row for row in open_runs if (levels[row] == 0).any()}
    for row in sorted(rows):
        found += _track_row(open_runs, row, reporter, levels[row], drops[row], offset)
    return found, RunState(open=open_runs)


def ongoing(state: RunState, reporter: Reporter) -> list[Detection]:
    """Reported runs still open at the end of the data: their ``end`` is ``None``."""
    return [reporter.detection(run, row, ongoing=True)
            for row, run in sorted(state.open.items()) if run.alert_at >= 0]


def _track_row(open_runs: dict[int, _Run], row: int, reporter: Reporter, levels: np.ndarray,
               drops: np.ndarray, offset: int) -> Findings:
    abnormal = np.flatnonzero(levels > 0)
    normal = np.flatnonzero(levels == 0) + offset
    raised: list[_Run] = []
    closed: list[_Run] = []
    for segment in _segments(abnormal + offset, normal, reporter.rules.max_gap):
        run = open_runs.get(row)
        if run is not None and not _continues(run.last, int(segment[0]), normal, reporter.rules.max_gap):
            closed.append(open_runs.pop(row))
            run = None
        if run is None:
            run = open_runs[row] = _Run(start=int(segment[0]), last=int(segment[0]))
        if _extend(run, segment, levels[segment - offset], drops[segment - offset], reporter):
            raised.append(run)
    run = open_runs.get(row)
    if run is not None and normal.size and normal[-1] > run.last:
        closed.append(open_runs.pop(row))
    still_open = open_runs.get(row)
    return Findings(
        raised=tuple(reporter.detection(r, row, ongoing=r is still_open) for r in raised),
        closed=tuple(reporter.detection(r, row, ongoing=False) for r in closed if r.alert_at >= 0),
    )


def _segments(abnormal: np.ndarray, normal: np.ndarray, max_gap: int) -> list[np.ndarray]:
    """Split sorted abnormal bin indices where a normal bin or too long a gap lies between."""
    if abnormal.size == 0:
        return []
    gap = np.diff(abnormal) - 1
    has_normal = np.searchsorted(normal, abnormal[1:]) != np.searchsorted(normal, abnormal[:-1])
    cuts = np.flatnonzero(has_normal | (gap > max_gap)) + 1
    return np.split(abnormal, cuts)


def _continues(last: int, first: int, normal: np.ndarray, max_gap: int) -> bool:
    between = np.searchsorted(normal, first) != np.searchsorted(normal, last)
    return not between and first - last - 1 <= max_gap


def _extend(run: _Run, positions: np.ndarray, levels: np.ndarray, drops: np.ndarray,
            reporter: Reporter) -> bool:
    """Add a segment's bins to ``run``; True when this made the run reportable."""
    cum_abnormal = run.n_abnormal + np.arange(1, positions.size + 1)
    cum_critical = run.n_critical + np.cumsum(levels >= Level.CRITICAL)
    run.last = int(positions[-1])
    run.n_abnormal = int(cum_abnormal[-1])
    run.n_critical = int(cum_critical[-1])
    run.sum_drop += float(drops.sum())
    run.max_drop = max(run.max_drop, float(drops.max()))
    if run.alert_at >= 0:
        return False
    min_bins, min_level = reporter.rules.min_bins, reporter.rules.min_level
    reportable = (cum_critical >= min_bins) if min_level >= Level.CRITICAL else (cum_abnormal >= min_bins)
    if not reportable.any():
        return False
    run.alert_at = int(positions[int(np.argmax(reportable))])
    return True
