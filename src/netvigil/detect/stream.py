"""Streaming detection: points in as they arrive, alerts out as soon as a detector reports.

Each (entity, source) series keeps its own detector state and advances bin by
bin with the same code as batch detection, so streaming and batch agree.  A
connectivity value is judged when it arrives (its bin is complete); anomaly-rate
bins collect measurements until a point of a later bin arrives or the stream is
flushed.  The step of a series is taken from its first two times unless given.

A point older than the series' current bin cannot be judged any more: it is
counted in :attr:`Watcher.late` (so is a repeated time), never folded in silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from netvigil.detect.base import Detector, DetectorState, default_detectors
from netvigil.detect.grid import BINNED_KINDS, DEFAULT_STEPS, SeriesMeta
from netvigil.model.times import floor_time
from netvigil.detect.incidents import on_the_hour
from netvigil.detect.records import Detection, SignalKind, SignalPoint, iso


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """A detection that was just raised (``event="raised"``) or has just ended (``"resolved"``)."""

    event: str
    detection: Detection

    @property
    def latency(self) -> timedelta:
        """Data time from onset to the moment the detector could report it."""
        return self.detection.alerted_at - self.detection.start

    def to_dict(self) -> dict[str, Any]:
        d = self.detection
        return {
            "event": self.event, "entity": d.entity, "source": d.source, "method": d.method,
            "start": iso(d.start), "end": None if d.end is None else iso(d.end), "level": d.level.name.lower(),
            "severity": round(d.area, 3), "confidence": round(d.confidence, 3),
            "on_the_hour": on_the_hour(d.start, d.step), "alerted_at": iso(d.alerted_at),
            "latency_seconds": self.latency.total_seconds(), "latency_bins": self.latency / d.step,
        }


@dataclass(slots=True)
class _Series:
    detector: Detector[Any]
    state: DetectorState
    kind: SignalKind
    open_sum: float = 0.0  # binned kinds: the bin being collected
    open_weight: float = 0.0

    @property
    def meta(self) -> SeriesMeta:
        return self.state.meta

    def bin_of(self, t: datetime) -> int:
        return int((t - self.meta.origin) // self.meta.step)


@dataclass
class Watcher:
    """Feed points with :meth:`push`; each call returns the alerts they caused."""

    detectors: Mapping[SignalKind, Detector[Any]] = field(default_factory=default_detectors)
    steps: Mapping[SignalKind, timedelta] = field(default_factory=dict)
    late: int = 0
    _series: dict[tuple[str, str], _Series] = field(default_factory=dict)
    _first: dict[tuple[str, str], SignalPoint] = field(default_factory=dict)

    def push(self, point: SignalPoint) -> list[Alert]:
        key = (point.entity, point.source)
        series = self._series.get(key) or self._start(key, point)
        if series is None:
            return []
        index = series.bin_of(point.time)
        position = series.state.position
        if point.kind in BINNED_KINDS:
            return self._push_binned(series, index, point)
        if index < position:
            self.late += 1
            return []
        return self._advance(series, index - position, point.value, point.weight)

    def flush(self) -> list[Alert]:
        """Judge every anomaly-rate bin still collecting measurements (end of stream)."""
        alerts = []
        for series in self._series.values():
            if series.open_weight > 0:
                alerts += self._close_open_bin(series, 0)
        return alerts

    def ongoing(self) -> list[Detection]:
        return [d for s in self._series.values() for d in s.detector.ongoing(s.state)]

    def _start(self, key: tuple[str, str], point: SignalPoint) -> _Series | None:
        step = self.steps.get(point.kind)
        if step is None and point.kind in BINNED_KINDS:
            step = DEFAULT_STEPS[point.kind]
        if step is None:  # learn the step from the series' first two times
            first = self._first.setdefault(key, point)
            if first is point:
                return None
            step = point.time - first.time
            if step <= timedelta(0):  # repeated or out of order before the step is known
                self.late += 1
                return None
        first = self._first.pop(key, point)
        origin = floor_time(first.time, step) if point.kind in BINNED_KINDS else first.time
        meta = SeriesMeta(source=point.source, kind=point.kind, entities=(point.entity,), origin=origin, step=step)
        detector = self.detectors[point.kind]
        series = self._series[key] = _Series(detector=detector, state=detector.initial(meta), kind=point.kind)
        if first is not point:
            self._advance(series, 0, first.value, first.weight)
        return series

    def _push_binned(self, series: _Series, index: int, point: SignalPoint) -> list[Alert]:
        open_index = series.state.position
        if index < open_index:
            self.late += 1
            return []
        alerts = self._close_open_bin(series, index - open_index) if index > open_index else []
        series.open_sum += point.value * point.weight
        series.open_weight += point.weight
        return alerts

    def _close_open_bin(self, series: _Series, next_index: int) -> list[Alert]:
        """Judge the collected bin; bins before ``next_index`` (relative to it) that got nothing are missing."""
        value = series.open_sum / series.open_weight if series.open_weight > 0 else np.nan
        alerts = self._advance(series, 0, value, series.open_weight)
        series.open_sum = series.open_weight = 0.0
        if next_index > 1:
            alerts += self._advance(series, next_index - 2, np.nan, 0.0)
        return alerts

    def _advance(self, series: _Series, missing: int, value: float, weight: float) -> list[Alert]:
        """Judge ``missing`` empty bins followed by one bin holding ``value``."""
        values = np.full((1, missing + 1), np.nan)
        weights = np.zeros((1, missing + 1))
        values[0, -1], weights[0, -1] = value, weight
        found, series.state = series.detector.run(series.state, values, weights)
        return ([Alert(event="raised", detection=d) for d in found.raised]
                + [Alert(event="resolved", detection=d) for d in found.closed])
