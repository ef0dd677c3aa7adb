"""Two-sided CUSUM for the onset and end of blocking, per country + ASN + domain.

Method: Page's cumulative sum in its two-sided form (Basseville & Nikiforov 1993,
§2.2.5) with the parameters of OONI's pipeline event detector (ooni/data
``analysis/detector.py``, research notes ooni-format §7.6): in-control mean
``mu_0 = 0`` (not blocked), shifted mean ``mu_1 = 0.7`` (blocked), expected
detection delay ``edd = 20``, hence threshold ``h = edd (mu_1 - mu_0) / 2 = 7``;
accumulators decay with a 48 h half-life while the series is silent.
Re-implemented from that description; no OONI code used.

Input is an anomaly-rate matrix: ``values`` the mean blocking score of the bin's
measurements, ``weights`` how many measurements.  A bin adds
``weight x (value - k)`` with ``k = (mu_0 + mu_1) / 2``, the same as feeding its
measurements one by one.  While OK the upward sum runs; when it reaches ``h`` the
series is BLOCKED from the last time the sum left zero (the changepoint estimate).
While BLOCKED the downward sum runs the same way towards OK.  A bin without
measurements adds nothing and only decays the sums: a data gap is not an event.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np

from netvigil.detect.grid import SeriesMeta
from netvigil.detect.records import Detection, Level
from netvigil.detect.runs import Findings


@dataclass(frozen=True, slots=True, kw_only=True)
class CusumParams:
    mu_0: float = 0.0  # OONI detector.py: mean score when not blocked
    mu_1: float = 0.7  # OONI detector.py: mean score when blocked
    edd: float = 20.0  # OONI detector.py: expected detection delay
    gap_halflife: timedelta = timedelta(hours=48)  # OONI detector.py: decay of the sums over silence

    @property
    def h(self) -> float:
        return self.edd * (self.mu_1 - self.mu_0) / 2.0

    @property
    def k(self) -> float:
        return (self.mu_0 + self.mu_1) / 2.0


_FIELDS = ("blocked", "s_up", "s_dn", "up_start", "dn_start", "onset", "alarm", "peak",
           "run_sum", "run_w", "dn_sum", "dn_w")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CusumState:
    """Per-entity arrays: the state (OK/BLOCKED), both sums, where their current runs began."""

    meta: SeriesMeta
    position: int
    blocked: np.ndarray  # bool
    s_up: np.ndarray
    s_dn: np.ndarray
    up_start: np.ndarray  # grid index where s_up last left zero, -1 when zero
    dn_start: np.ndarray
    onset: np.ndarray  # grid index of the current blocking onset, -1 when OK
    alarm: np.ndarray  # grid index where the current blocking was confirmed
    peak: np.ndarray  # highest s_up reached by the current blocking
    run_sum: np.ndarray  # sum of weight x value since up_start (then since onset)
    run_w: np.ndarray
    dn_sum: np.ndarray  # the same since dn_start, subtracted when blocking ends
    dn_w: np.ndarray


@dataclass(frozen=True, slots=True)
class CusumDetector:
    params: CusumParams
    method: str = "cusum"

    def initial(self, meta: SeriesMeta) -> CusumState:
        n = len(meta.entities)
        arrays = {name: np.zeros(n) for name in _FIELDS}
        arrays["blocked"] = np.zeros(n, bool)
        for name in ("up_start", "dn_start", "onset", "alarm"):
            arrays[name] = np.full(n, -1, np.int64)
        return CusumState(meta=meta, position=0, **arrays)

    def run(self, state: CusumState, values: np.ndarray, weights: np.ndarray) -> tuple[Findings, CusumState]:
        st = replace(state, **{name: getattr(state, name).copy() for name in _FIELDS})
        decay = 0.5 ** (st.meta.step / self.params.gap_halflife)
        found = Findings()
        for j in range(values.shape[1]):
            found += self._step(st, st.position + j, values[:, j], weights[:, j], decay)
        return found, replace(st, position=st.position + values.shape[1])

    def ongoing(self, state: CusumState) -> list[Detection]:
        rows = np.flatnonzero(state.blocked)
        return [self._detection(state, int(r), end=None) for r in rows]

    def _step(self, st: CusumState, g: int, x: np.ndarray, w: np.ndarray, decay: float) -> Findings:
        """One bin for every entity; the upward sum also keeps running while blocked, to measure evidence."""
        has = (w > 0) & ~np.isnan(x)
        inc = np.where(has, w * (np.nan_to_num(x) - self.params.k), 0.0)
        mass = np.where(has, w * np.nan_to_num(x), 0.0)
        weight = np.where(has, w, 0.0)
        silent = np.where(has, 1.0, decay)
        ok = ~st.blocked
        up = np.maximum(0.0, st.s_up * silent + inc)
        rising, zero = ok & (st.s_up == 0.0) & (up > 0.0), ok & (up == 0.0)
        _restart(st.up_start, st.run_sum, st.run_w, rising, zero, g, mass, weight)
        st.s_up[:] = up
        st.peak[:] = np.where(zero, 0.0, np.maximum(st.peak, up))
        dn = np.where(st.blocked, np.maximum(0.0, st.s_dn * silent - inc), 0.0)
        falling, dzero = st.blocked & (st.s_dn == 0.0) & (dn > 0.0), st.blocked & (dn == 0.0)
        _restart(st.dn_start, st.dn_sum, st.dn_w, falling, dzero | ok, g, mass, weight)
        st.s_dn[:] = dn
        return Findings(raised=self._raise(st, g), closed=self._close(st))

    def _raise(self, st: CusumState, g: int) -> tuple[Detection, ...]:
        rows = np.flatnonzero(~st.blocked & (st.s_up >= self.params.h))
        if rows.size == 0:
            return ()
        st.blocked[rows] = True
        st.onset[rows] = st.up_start[rows]
        st.alarm[rows] = g
        return tuple(self._detection(st, int(r), end=None) for r in rows)

    def _close(self, st: CusumState) -> tuple[Detection, ...]:
        rows = np.flatnonzero(st.blocked & (st.s_dn >= self.params.h))
        if rows.size == 0:
            return ()
        st.run_sum[rows] -= st.dn_sum[rows]
        st.run_w[rows] -= st.dn_w[rows]
        closed = tuple(self._detection(st, int(r), end=int(st.dn_start[r])) for r in rows)
        st.blocked[rows] = False
        for name in ("s_up", "s_dn", "peak", "run_sum", "run_w", "dn_sum", "dn_w"):
            getattr(st, name)[rows] = 0.0
        for name in ("up_start", "dn_start", "onset", "alarm"):
            getattr(st, name)[rows] = -1
        return closed

    def _detection(self, st: CusumState, row: int, *, end: int | None) -> Detection:
        meta = st.meta
        last = st.position if end is None else end
        minutes = float(last - st.onset[row]) * meta.step.total_seconds() / 60.0
        rate = float(st.run_sum[row] / st.run_w[row]) if st.run_w[row] > 0 else 0.0
        return Detection(
            entity=meta.entities[row], source=meta.source, kind=meta.kind, method=self.method,
            start=meta.time(int(st.onset[row])), end=None if end is None else meta.time(end), step=meta.step,
            level=Level.CRITICAL, area=min(1.0, rate) * 100.0 * max(minutes, 0.0),
            confidence=self._confidence(float(st.peak[row])), alerted_at=meta.time(int(st.alarm[row]) + 1),
        )

    def _confidence(self, peak: float) -> float:
        """netvigil heuristic: 1 - exp(-peak / h); 0.63 at the alarm threshold, 0.95 at three times it."""
        return 1.0 - math.exp(-peak / self.params.h)


def _restart(start: np.ndarray, run_sum: np.ndarray, run_w: np.ndarray, rising: np.ndarray, zero: np.ndarray,
             g: int, mass: np.ndarray, weight: np.ndarray) -> None:
    """Track where a sum's current excursion above zero began and what it has seen since, in place."""
    start[rising] = g
    start[zero] = -1
    run_sum[:] = np.where(zero, 0.0, np.where(rising, mass, run_sum + mass))
    run_w[:] = np.where(zero, 0.0, np.where(rising, weight, run_w + weight))
