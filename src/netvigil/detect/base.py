"""The detector contract, and which detector judges which kind of signal.

A detector is pure and resumable: ``initial(meta)`` makes the state for a set of
entities, ``run(state, values, weights)`` consumes the next bins and returns what
changed plus a new state, ``ongoing(state)`` lists what is still open.  Batch
detection is one ``run`` over the whole history; streaming is one ``run`` per bin.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from netvigil.detect.belief import BeliefDetector, BeliefParams
from netvigil.detect.counts import CountDetector, CountParams
from netvigil.detect.cusum import CusumDetector, CusumParams
from netvigil.detect.grid import SeriesMeta, SignalMatrix
from netvigil.detect.ratio import KIND_PARAMS, RatioDetector
from netvigil.detect.records import Detection, SignalKind
from netvigil.detect.runs import Findings


class DetectorState(Protocol):
    """What every detector's state tells its holder: the series it is about and the next bin it expects."""

    @property
    def meta(self) -> SeriesMeta: ...

    @property
    def position(self) -> int: ...


S = TypeVar("S", bound=DetectorState)
A = TypeVar("A", bound=DetectorState)
B = TypeVar("B", bound=DetectorState)


class Detector(Protocol[S]):
    """A detector whose state is ``S``; only the state its own ``initial``/``run`` made goes back in.

    Where detectors of different kinds sit side by side (one per signal kind) the
    state type differs per entry, so such collections hold ``Detector[Any]``.
    """

    @property
    def method(self) -> str: ...

    def initial(self, meta: SeriesMeta) -> S: ...

    def run(self, state: S, values: np.ndarray, weights: np.ndarray) -> tuple[Findings, S]: ...

    def ongoing(self, state: S) -> list[Detection]: ...


@dataclass(frozen=True, slots=True)
class BothState(Generic[A, B]):
    first: A
    second: B

    @property
    def meta(self) -> SeriesMeta:
        return self.first.meta

    @property
    def position(self) -> int:
        return self.first.position


@dataclass(frozen=True, slots=True)
class Both(Generic[A, B]):
    """Two detectors over the same matrix, e.g. the ratio for large values and the count CUSUM for small ones.

    Each keeps its own state; what they find is put together (incidents merge
    overlapping detections of one entity).
    """

    first: Detector[A]
    second: Detector[B]
    method: str = "both"

    def initial(self, meta: SeriesMeta) -> BothState[A, B]:
        return BothState(self.first.initial(meta), self.second.initial(meta))

    def run(self, state: BothState[A, B], values: np.ndarray,
            weights: np.ndarray) -> tuple[Findings, BothState[A, B]]:
        found_a, a = self.first.run(state.first, values, weights)
        found_b, b = self.second.run(state.second, values, weights)
        return found_a + found_b, BothState(a, b)

    def ongoing(self, state: BothState[A, B]) -> list[Detection]:
        return [*self.first.ongoing(state.first), *self.second.ongoing(state.second)]


def default_detectors() -> dict[SignalKind, Detector[Any]]:
    """Ratio-to-median (and, below its minimum baseline, the count CUSUM) for connectivity counts,
    CUSUM for anomaly rates, Bayesian belief for probing rounds."""
    detectors: dict[SignalKind, Detector[Any]] = {
        kind: Both(RatioDetector(params), CountDetector(CountParams(max_rate=params.min_prediction)))
        for kind, params in KIND_PARAMS.items()}
    detectors[SignalKind.ANOMALY_RATE] = CusumDetector(CusumParams())
    detectors[SignalKind.REACHABILITY] = BeliefDetector(BeliefParams())
    return detectors


def detect_matrix(matrix: SignalMatrix, detector: Detector[S]) -> list[Detection]:
    """Every detection over the whole history of one matrix; those still open end with ``end=None``."""
    state = detector.initial(matrix.meta)
    found, state = detector.run(state, matrix.values, matrix.weights)
    return sorted([*found.closed, *detector.ongoing(state)], key=lambda d: (d.entity, d.start))


def detect_all(matrices: Iterable[SignalMatrix],
               detectors: Mapping[SignalKind, Detector[Any]] | None = None) -> list[Detection]:
    chosen = default_detectors() if detectors is None else detectors
    return [d for m in matrices for d in detect_matrix(m, chosen[m.meta.kind])]
