"""Helpers for detector tests: matrices from plain arrays, on a fixed UTC grid (imported by name)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from netvigil.detect.grid import SeriesMeta, SignalMatrix
from netvigil.detect.records import SignalKind

ORIGIN = datetime(2024, 1, 1, tzinfo=UTC)


def make_matrix(values: np.ndarray | list[list[float]], *, kind: SignalKind = SignalKind.ACTIVE_PROBING,
                step: timedelta = timedelta(minutes=5), weights: np.ndarray | None = None,
                source: str = "test", entities: tuple[str, ...] | None = None) -> SignalMatrix:
    array = np.asarray(values, dtype=float)
    if array.ndim == 1:
        array = array[None, :]
    meta = SeriesMeta(source=source, kind=kind, entities=entities or tuple(f"E{i}" for i in range(array.shape[0])),
                      origin=ORIGIN, step=step)
    w = np.where(np.isnan(array), 0.0, 1.0) if weights is None else np.asarray(weights, dtype=float)
    return SignalMatrix(meta=meta, values=array, weights=w)
