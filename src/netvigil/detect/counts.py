"""Counts judged as counts: a Poisson CUSUM for series too small for the ratio to median (issue 11).

Why: the ratio detector makes no judgement below a baseline of 20 (watchtower's
``minprediction``), yet shutdowns are mostly regional and a district may have 2 to
12 responsive addresses an hour.  There a ratio says nothing useful: 4 instead of
6 is a 33 % drop and pure noise, while 8 hours of 0 instead of 6 is certain.  The
probability of the observed counts under the expected rate says both.

**Method.**  Page's CUSUM for Poisson counts (Lucas, "Counted data CUSUM's",
Technometrics 27(2), 1985; Basseville & Nikiforov 1993, §2.2): with expected rate
``lam`` per bin and the outage hypothesis ``rho x lam``, each bin adds the
log-likelihood ratio ``x ln(rho) + (1 - rho) lam`` of its count ``x``, divided by
the row's dispersion ``phi`` (quasi-Poisson, McCullagh & Nelder, Generalized
Linear Models, 2nd ed. 1989, §9.2: overdispersed counts carry ``1 / phi`` of the
evidence of Poisson counts).  The sum is kept at or above 0; when it reaches
``h = ln(odds)`` the bins since it last left 0 are ``odds`` times likelier under
the outage than under the normal rate (the changepoint estimate is that last
zero, so the reported onset is where the drop began, not where it became
certain; it is moved to the first of the latest unbroken bins that look like an
outage, whose own log-ratio is at least half that of a zero count, so that an
odd low hour before the drop does not pull the onset early).  While out, the mirror sum towards the normal rate runs the same way and
ends the outage where it last left 0.  A missing bin adds nothing.

The confidence is a Trinocular-style belief (Quan et al., SIGCOMM 2013): with even
prior odds, ``P(out) = LR / (1 + LR)`` for the largest likelihood ratio ``LR``
reached.

**The expected rate, protected from outages.**  Per row and time-of-day slot (an
hour), the mean count per bin of the last ``days`` days of that slot.  A block
enters this history a day after it ended (``lag`` = one day of blocks), once any
outage it belonged to has been found: blocks inside a detected outage, including
the hours between its onset and its alarm, never enter; nor does a block far
below its slot's rate (an outage the ratio detector judged).  The history then keeps
the days before a curfew however long it lasts, so its 60th night is judged
against normal nights like its first, while a healthy daily cycle is the slot
means themselves and raises nothing.  After ``max_outage`` out, the old history
is dropped and the new level accepted (IODA's ``inpainting maxduration``: a level
shift and an outage cannot be told apart by counts alone).

**Which rows.**  Only rows whose values so far are all non-negative integers
(counts: responsive addresses, visible prefixes, source IPs), and only while their
expected rate is below ``max_rate`` (the ratio detector's ``min_prediction``,
above which the ratio judges) and at least ``min_rate``.  An index such as
Monash's 0-100 connectivity is not a count and is left to the ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np

from netvigil.detect.grid import SeriesMeta
from netvigil.detect.records import Detection, Level
from netvigil.detect.runs import Findings

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class CountParams:
    """Each default names its source."""

    # netvigil: the outage hypothesis keeps 20 % of the rate, between IODA's critical
    # fractions for probing (0.5) and telescope (0.1) (Help.js, research notes §1.3).
    rho: float = 0.2
    # netvigil: alarm at a likelihood ratio of 10^5 (h = 11.5); the in-control run
    # length of a CUSUM grows like e^h (Siegmund 1985), about 10 years of hourly bins.
    odds: float = 1e5
    days: int = 7  # IODA's 7-day probing/telescope history (Help.js)
    min_days: int = 3  # netvigil: the same as the time-of-day baseline (season.SeasonParams.min_days)
    slot: timedelta = HOUR  # netvigil: one expected rate per hour of day, the refresh block of the ratio detector
    max_rate: float = 20.0  # watchtower ``minprediction 20``: from there on the ratio judges
    # netvigil: below 0.2 per bin even a full day of zeros is not evidence enough at these odds
    min_rate: float = 0.2
    max_outage: timedelta = 7 * DAY  # watchtower ``inpainting maxduration 604800``
    # netvigil: the expected rate is taken this many standard errors below the slot's mean
    # (the mean of ``n`` days of ``block`` Poisson bins has standard error sqrt(phi lam / (n block))),
    # so that a rate overestimated from few days cannot drift the sum upwards.
    rate_se: float = 1.0
    commit_z: float = -3.09  # netvigil: a block this far below its slot (Poisson tail ~0.001) is an outage

    @property
    def h(self) -> float:
        return math.log(self.odds)


_FLOATS = ("s_up", "s_dn", "peak", "drop", "dn_drop", "cur_sum", "cur_n")
_INTS = ("up_start", "strong_start", "dn_start", "onset", "alarm", "out_for")
_LOCAL = ("out", "s_up", "s_dn", "up_start", "strong_start", "dn_start", "drop", "dn_drop", "peak")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CountState:
    meta: SeriesMeta
    position: int
    block: int  # bins per slot block
    hist: np.ndarray  # (E, slots, days) committed block means per bin, NaN empty
    head: np.ndarray  # (E, slots) next write position in each slot's ring
    recent: np.ndarray  # (E, slots) the last day of block means, waiting to be committed
    recent_out: np.ndarray  # (E, slots) whether that block belonged to an outage
    cur_out: np.ndarray  # (E,) the block being filled belongs to an outage
    integral: np.ndarray  # (E,) every value so far is a non-negative integer
    lam: np.ndarray  # (E,) expected count per bin for the block being filled, NaN = not judged
    phi: np.ndarray  # (E,) dispersion (variance / mean), >= 1
    out: np.ndarray  # (E,) in an outage
    s_up: np.ndarray
    s_dn: np.ndarray
    peak: np.ndarray
    drop: np.ndarray  # sum of relative drops since up_start (then since onset)
    dn_drop: np.ndarray  # the same since dn_start, taken back when the outage ends
    cur_sum: np.ndarray
    cur_n: np.ndarray
    up_start: np.ndarray
    strong_start: np.ndarray  # first of the latest bins in a row as low as an outage (LLR >= half a zero's)
    dn_start: np.ndarray
    onset: np.ndarray
    alarm: np.ndarray
    out_for: np.ndarray  # bins out, for max_outage

    def copy(self) -> CountState:
        arrays = ("hist", "head", "recent", "recent_out", "cur_out", "integral", "lam", "phi", "out",
                  *_FLOATS, *_INTS)
        return replace(self, **{name: getattr(self, name).copy() for name in arrays})


@dataclass(frozen=True, slots=True)
class CountDetector:
    """Poisson CUSUM over low-count series; rows it does not judge produce nothing."""

    params: CountParams = CountParams()
    method: str = "count-cusum"

    def initial(self, meta: SeriesMeta) -> CountState:
        n = len(meta.entities)
        block = max(1, round(self.params.slot / meta.step))
        span = block * meta.step
        slots = DAY // span if DAY % span == timedelta(0) else 1
        floats = {name: np.zeros(n) for name in _FLOATS}
        ints = {name: np.full(n, -1, np.int64) for name in _INTS}
        ints["out_for"] = np.zeros(n, np.int64)
        return CountState(meta=meta, position=0, block=block, hist=np.full((n, slots, self.params.days), np.nan),
                          head=np.zeros((n, slots), np.int64), recent=np.full((n, slots), np.nan),
                          recent_out=np.zeros((n, slots), bool), cur_out=np.zeros(n, bool),
                          integral=np.ones(n, bool), lam=np.full(n, np.nan), phi=np.ones(n),
                          out=np.zeros(n, bool), **floats, **ints)

    def run(self, state: CountState, values: np.ndarray, weights: np.ndarray) -> tuple[Findings, CountState]:
        """Process ``values`` (entities x bins, NaN = missing) following ``state``; weights are not used."""
        st = state.copy()
        found, done = Findings(), 0
        while done < values.shape[1]:
            n = min(values.shape[1] - done, st.block - st.position % st.block)
            found += self._chunk(st, values[:, done:done + n])
            st = replace(st, position=st.position + n)
            done += n
            if st.position % st.block == 0:
                found += self._close_block(st)
        return found, st

    def ongoing(self, state: CountState) -> list[Detection]:
        return [self._detection(state, int(r), end=None) for r in np.flatnonzero(state.out)]

    # --- one chunk inside one block -------------------------------------------------------

    def _chunk(self, st: CountState, x: np.ndarray) -> Findings:
        known = ~np.isnan(x)
        with np.errstate(invalid="ignore"):
            bad = known & ((x < 0) | (x != np.floor(x)))
        st.integral[:] = st.integral & ~bad.any(axis=1)
        st.cur_sum[:] += np.where(known, x, 0.0).sum(axis=1)
        st.cur_n[:] += known.sum(axis=1)
        rows = np.flatnonzero(st.integral & ~np.isnan(st.lam))
        if rows.size == 0:
            return Findings()
        return self._cusum(st, rows, x[rows])

    def _cusum(self, st: CountState, rows: np.ndarray, x: np.ndarray) -> Findings:
        """The two one-sided sums, bin by bin, for the judged rows only.

        The rows' state is worked on as local arrays and written back whenever an
        outage starts or ends (rare) and at the end of the chunk: indexing the full
        state in every bin would cost more than the arithmetic.
        """
        p = self.params
        lam, phi = st.lam[rows], st.phi[rows]
        known = ~np.isnan(x)
        llr = np.where(known, (np.nan_to_num(x) * math.log(p.rho) + (1.0 - p.rho) * lam[:, None]) / phi[:, None], 0.0)
        drop = np.where(known, np.clip(1.0 - np.nan_to_num(x) / lam[:, None], 0.0, 1.0), 0.0)
        strong = llr >= 0.5 * ((1.0 - p.rho) * lam / phi)[:, None]  # at least half the LLR of a zero count
        weak = known & ~strong
        loc = {name: getattr(st, name)[rows] for name in _LOCAL}
        raised, closed = [], []
        for j in range(x.shape[1]):
            g = st.position + j
            out, s_up, s_dn = loc["out"], loc["s_up"], loc["s_dn"]
            up = np.maximum(0.0, s_up + llr[:, j])
            rising = ~out & (s_up == 0.0) & (up > 0.0)
            zero = ~out & (up == 0.0)
            loc["up_start"] = np.where(rising, g, np.where(zero, -1, loc["up_start"]))
            ss = loc["strong_start"]
            loc["strong_start"] = np.where(~out & (zero | weak[:, j]), -1,
                                           np.where(~out & strong[:, j] & (ss < 0), g, ss))
            loc["drop"] = np.where(zero, 0.0, np.where(rising, drop[:, j], loc["drop"] + drop[:, j]))
            loc["s_up"] = up  # keeps running while out: the evidence behind the confidence
            loc["peak"] = np.where(zero, 0.0, np.maximum(loc["peak"], up))
            dn = np.where(out, np.maximum(0.0, s_dn - llr[:, j]), 0.0)
            falling = out & (s_dn == 0.0) & (dn > 0.0)
            loc["dn_start"] = np.where(falling, g, loc["dn_start"])
            loc["dn_drop"] = np.where(dn == 0.0, 0.0, np.where(falling, drop[:, j], loc["dn_drop"] + drop[:, j]))
            loc["s_dn"] = dn
            starts, ends = ~out & (up >= p.h), out & (dn >= p.h)
            if starts.any() or ends.any():
                for name, value in loc.items():
                    getattr(st, name)[rows] = value
                raised += self._raise(st, rows[starts], g)
                closed += self._close(st, rows[ends], end=None)
                loc = {name: getattr(st, name)[rows] for name in _LOCAL}
        for name, value in loc.items():
            getattr(st, name)[rows] = value
        return Findings(raised=tuple(raised), closed=tuple(closed))

    def _raise(self, st: CountState, rows: np.ndarray, g: int) -> list[Detection]:
        if rows.size == 0:
            return []
        st.out[rows] = True
        st.onset[rows] = np.where(st.strong_start[rows] >= 0, st.strong_start[rows], st.up_start[rows])
        st.alarm[rows] = g
        st.cur_out[rows] = True
        slots = st.recent_out.shape[1]
        block_now = g // st.block
        for r in rows.tolist():  # the hours between onset and alarm are part of the outage: keep them out
            first = max(int(st.onset[r]) // st.block, block_now - slots + 1)
            for b in range(first, block_now):
                st.recent_out[r, b % slots] = True
        return [self._detection(st, int(r), end=None) for r in rows]

    def _close(self, st: CountState, rows: np.ndarray, end: int | None) -> list[Detection]:
        if rows.size == 0:
            return []
        stop = st.dn_start[rows] if end is None else np.full(rows.size, end)
        st.drop[rows] -= st.dn_drop[rows]
        closed = [self._detection(st, int(r), end=int(e)) for r, e in zip(rows, stop, strict=True)]
        st.out[rows] = False
        for name in ("s_up", "s_dn", "peak", "drop", "dn_drop"):
            getattr(st, name)[rows] = 0.0
        for name in ("up_start", "strong_start", "dn_start", "onset", "alarm"):
            getattr(st, name)[rows] = -1
        st.out_for[rows] = 0
        return closed

    # --- block boundary: commit a day-old block, next expected rate -----------------------

    def _close_block(self, st: CountState) -> Findings:
        p = self.params
        slots = st.recent.shape[1]
        block = st.position // st.block - 1
        s = block % slots
        self._commit(st, s)
        with np.errstate(invalid="ignore", divide="ignore"):
            st.recent[:, s] = np.where(st.cur_n > 0, st.cur_sum / st.cur_n, np.nan)
        st.recent_out[:, s] = st.cur_out | st.out
        st.cur_sum[:] = 0.0
        st.cur_n[:] = 0.0
        st.out_for[st.out] += st.block
        found = Findings()
        too_long = np.flatnonzero(st.out & (st.out_for * st.meta.step >= p.max_outage))
        if too_long.size:  # accept the new level: closed where it was accepted, history dropped
            found = Findings(closed=tuple(self._close(st, too_long, end=st.position)))
            st.hist[too_long] = np.nan
            st.recent[too_long] = np.nan
        st.cur_out[:] = st.out
        if (block + 1) % slots == 0:
            st.phi[:] = _dispersion(st.hist, st.block)
        st.lam[:] = self._expected(st, (block + 1) % slots)
        return found

    def _commit(self, st: CountState, s: int) -> None:
        """Move the day-old block of slot ``s`` into the history unless it was part of an outage.

        An outage this detector did not judge (a rate above ``max_rate``, where the
        ratio detector found it) is kept out too: a block whose count is below its
        slot's expected count by more than ``commit_z`` Poisson standard deviations
        does not enter, so a curfew's nights never lower the slot's rate.
        """
        p = self.params
        value = st.recent[:, s]
        days = st.hist[:, s, :]
        n = np.count_nonzero(~np.isnan(days), axis=1)
        expected = np.where(n >= p.min_days, np.nansum(days, axis=1) / np.maximum(n, 1), np.nan)
        k = st.block
        with np.errstate(invalid="ignore"):
            low = k * (value - expected) < p.commit_z * np.sqrt(st.phi * k * expected)
        rows = np.flatnonzero(~np.isnan(value) & ~st.recent_out[:, s] & ~low)
        st.hist[rows, s, st.head[rows, s]] = value[rows]
        st.head[rows, s] = (st.head[rows, s] + 1) % st.hist.shape[2]

    def _expected(self, st: CountState, s: int) -> np.ndarray:
        p = self.params
        days = st.hist[:, s, :]
        n = np.count_nonzero(~np.isnan(days), axis=1)
        mean = np.where(n > 0, np.nansum(days, axis=1) / np.maximum(n, 1), np.nan)
        with np.errstate(invalid="ignore"):
            # one standard error lower: a rate estimated from few days must not be taken as higher than it is
            cautious = mean - p.rate_se * np.sqrt(st.phi * mean / (np.maximum(n, 1) * st.block))
            judged = st.integral & (n >= p.min_days) & (cautious >= p.min_rate) & (mean < p.max_rate)
        return np.where(judged, cautious, np.nan)

    def _detection(self, st: CountState, row: int, *, end: int | None) -> Detection:
        meta = st.meta
        last = st.position if end is None else end
        minutes = meta.step.total_seconds() / 60.0
        return Detection(
            entity=meta.entities[row], source=meta.source, kind=meta.kind, method=self.method,
            start=meta.time(int(st.onset[row])), end=None if end is None else meta.time(end), step=meta.step,
            level=Level.CRITICAL, area=max(0.0, float(st.drop[row])) * 100.0 * minutes if last > 0 else 0.0,
            confidence=_belief(float(st.peak[row])), alerted_at=meta.time(int(st.alarm[row]) + 1),
        )


def _belief(log_lr: float) -> float:
    """P(out) = LR / (1 + LR) at even prior odds, computed without overflow."""
    return 1.0 / (1.0 + math.exp(-min(log_lr, 700.0)))


def _dispersion(hist: np.ndarray, block: int) -> np.ndarray:
    """Quasi-Poisson dispersion per row: median over slots of ``block x var / mean`` of the slot's days, >= 1.

    A block mean of ``block`` Poisson bins has variance ``lam / block``, hence the
    factor.  Comparing the same slot across days leaves the daily cycle out.
    """
    n = np.count_nonzero(~np.isnan(hist), axis=2)
    mean = np.where(n > 0, np.nansum(hist, axis=2) / np.maximum(n, 1), np.nan)
    dev = np.where(np.isnan(hist), 0.0, (hist - np.nan_to_num(mean)[:, :, None]) ** 2).sum(axis=2)
    var = dev / np.maximum(n - 1, 1)
    ok = (n >= 3) & (mean > 0)
    ratio = np.where(ok, block * var / np.where(ok, mean, 1.0), np.nan)
    with np.errstate(invalid="ignore"):
        pooled = np.nanmedian(np.where(ok.any(axis=1)[:, None], ratio, 1.0), axis=1)
    # the stubs type an axis reduction (nanmedian) as Any: name the array it is
    dispersion: np.ndarray = np.maximum(1.0, np.nan_to_num(pooled, nan=1.0))
    return dispersion
