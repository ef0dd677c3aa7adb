"""The detector contract, and which detector judges which kind of signal.

A detector is pure and resumable: ``initial(meta)`` makes the state for a set of
entities, ``run(state, values, weights)`` consumes the next bins and returns what
changed plus a new state, ``ongoing(state)`` lists what is still open.  Batch
detection is one ``run`` over the whole history; streaming is one ``run`` per bin.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from netvigil.detect.belief import BeliefDetector, BeliefParams
from netvigil.detect.cusum import CusumDetector, CusumParams
from netvigil.detect.grid import SeriesMeta, SignalMatrix
from netvigil.detect.ratio import KIND_PARAMS, RatioDetector
from netvigil.detect.records import Detection, SignalKind
from netvigil.detect.runs import Findings


class Detector(Protocol):
    method: str

    def initial(self, meta: SeriesMeta) -> Any: ...

    def run(self, state: Any, values: Any, weights: Any) -> tuple[Findings, Any]: ...

    def ongoing(self, state: Any) -> list[Detection]: ...


def default_detectors() -> dict[SignalKind, Detector]:
    """Ratio-to-median for connectivity counts, CUSUM for anomaly rates, Bayesian belief for probing rounds."""
    detectors: dict[SignalKind, Detector] = {kind: RatioDetector(params) for kind, params in KIND_PARAMS.items()}
    detectors[SignalKind.ANOMALY_RATE] = CusumDetector(CusumParams())
    detectors[SignalKind.REACHABILITY] = BeliefDetector(BeliefParams())
    return detectors


def detect_matrix(matrix: SignalMatrix, detector: Detector) -> list[Detection]:
    """Every detection over the whole history of one matrix; those still open end with ``end=None``."""
    state = detector.initial(matrix.meta)
    found, state = detector.run(state, matrix.values, matrix.weights)
    return sorted([*found.closed, *detector.ongoing(state)], key=lambda d: (d.entity, d.start))


def detect_all(matrices: Iterable[SignalMatrix],
               detectors: Mapping[SignalKind, Detector] | None = None) -> list[Detection]:
    chosen = default_detectors() if detectors is None else detectors
    return [d for m in matrices for d in detect_matrix(m, chosen[m.meta.kind])]
