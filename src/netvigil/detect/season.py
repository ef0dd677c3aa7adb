"""The time-of-day baseline of the ratio detector, for signals with a daily cycle.

Why: many connectivity counts follow the day (fewer home networks answer probes
at night).  Against a 7-day moving median the nightly trough of a cycle of
+-25 % is a 25 % drop, below IODA's 80 % warning fraction, so the plain ratio
raises a warning every night and merges the trough with any shutdown that
follows it.  Judged against the same time of day on earlier days the trough is
normal.  The research notes (§6) call for such a seasonal model for diurnal
signals; Chocolatine differences its SARIMA over one week and Cloudflare
forecasts from the median of similar past days (§2.2, §2.7).  netvigil keeps to
medians, which a few bad days do not move and which vectorise over entities.

**The profile**: one median per refresh block (an hour) per day over ``window``
(7 days); the expected value of a block is the median of its time-of-day slot
over those days.  It is protected from outages as the level's history is, by
IODA's inpainting (research notes §1.4): a bin outside ``[inpaint_min,
inpaint_max]`` times its slot's median enters as that median, so a nightly
curfew or a daily exam-time cut stays abnormal night after night, as IODA sees
it.  Two guards keep a bad start from locking itself in: a slot's median is
trusted (and inpaints) only from ``min_days`` values on, before which every value
enters as it is; and a bin is inpainted only when it is also abnormal, in the
same direction, against the level, so a normal value arriving after a first day
of outage is taken, not overwritten with the outage.  When IODA's maximum
inpainting duration discards the level's history, the profile goes with it.

**Which baseline, per entity** (decided at every day boundary, :func:`_decide`):

- **daily** when the strength of the daily cycle is at least ``strength`` and
  its trough (lowest slot median) stays above the critical fraction of the
  typical slot: the slot's median once it holds ``min_days`` values, before that
  the lower of the level and the slot's median.  A trough that deep is what a
  daily shutdown looks like, never the normal shape of a day, so a curfew that
  was already running when the data began is still judged against the level;
- **flat** otherwise: the level, IODA's moving median unchanged;
- **undecided** until the profile holds a day's worth of same-slot pairs: the
  lower of the level and the slot's median, which raises an alarm only where
  both baselines would, so a first day of data can neither invent nor hide a
  daily cycle's alarms.  A slot with no value yet (a data gap on the first day)
  takes the profile's trough instead: an unseen hour may be the trough.

**The strength** is the seasonal strength of Hyndman & Athanasopoulos
(Forecasting: Principles and Practice, 3rd ed., §4.3, after Wang, Smith &
Hyndman 2006), ``F_S = 1 - Var(remainder) / Var(season + remainder)``: near 0
without a cycle, near 1 when the cycle dominates the noise.  Here the
remainder's variance is half that of the changes between days at the same time
of day (the daily cycle cancels; their median absolute value makes one odd day
count for little), and the other variance is the plain variance of the profile,
so that a short but deep daily dip counts too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np

from netvigil.detect.medians import nanmedian_rows

DAY = timedelta(days=1)
MAD_TO_SIGMA = 1.4826  # median absolute deviation -> standard deviation of a normal distribution
UNDECIDED, FLAT, DAILY = -1, 0, 1  # per-entity baseline mode


@dataclass(frozen=True, slots=True, kw_only=True)
class SeasonParams:
    """When and how the time-of-day baseline is used; each default says where it comes from."""

    # netvigil: IODA's 7-day probing/telescope history (Help.js), Chocolatine's one-week seasonal difference.
    window: timedelta = 7 * DAY
    # netvigil: a slot's median is trusted from 3 days on, the fewest days whose median outvotes one odd day.
    min_days: int = 3
    # netvigil: daily when the cycle explains at least half the variance (F_S >= 0.5); F_S has no agreed cut-off.
    strength: float = 0.5


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class DailyProfile:
    """Resumable state: slot medians per day, the block being filled, the per-entity decision."""

    params: SeasonParams
    slots: int  # refresh blocks per day
    deepest: float  # the detector's critical fraction: a trough below it x the typical slot is never normal
    history: np.ndarray  # (E, days x slots) block medians, column = block index mod its width
    pending: np.ndarray  # (E, block bins) values of the block being filled (inpainted)
    reference: np.ndarray  # (E,) trusted slot median for the block being filled, NaN when not trusted
    level: np.ndarray  # (E,) the ratio detector's moving median for the block being filled
    mode: np.ndarray  # (E,) UNDECIDED, FLAT or DAILY, from the last day boundary
    floor: np.ndarray  # (E,) lowest slot median at the last day boundary, NaN before the first

    def copy(self) -> DailyProfile:
        return replace(self, history=self.history.copy(), pending=self.pending.copy(),
                       reference=self.reference.copy(), level=self.level.copy(), mode=self.mode.copy(),
                       floor=self.floor.copy())


def slots_per_day(step: timedelta, block: int) -> int | None:
    """Blocks per day, or None when blocks do not tile a day (then the same slot is not the same time of day)."""
    span = block * step
    return DAY // span if DAY % span == timedelta(0) else None


def new_profile(entities: int, *, slots: int, block: int, deepest: float, params: SeasonParams) -> DailyProfile:
    days = max(2, round(params.window / DAY))  # two days at least: the strength compares days

    def empty() -> np.ndarray:
        return np.full(entities, np.nan)

    return DailyProfile(params=params, slots=slots, deepest=deepest,
                        history=np.full((entities, days * slots), np.nan),
                        pending=np.full((entities, block), np.nan), reference=empty(), level=empty(),
                        mode=np.full(entities, UNDECIDED, np.int8), floor=empty())


def take(profile: DailyProfile, x: np.ndarray, offset: int, low: float, high: float) -> None:
    """Put the bins of ``x`` (from ``offset`` in the block) in the block being filled, inpainting outliers.

    A bin is an outlier when its ratio to the slot's trusted median and to the
    level are both below ``low`` or both above ``high``; it enters as the median.
    """
    ref, level = profile.reference[:, None], profile.level[:, None]
    with np.errstate(invalid="ignore"):  # NaN reference or level: nothing to compare with, the value enters
        outlier = ((x < low * ref) & (x < low * level)) | ((x > high * ref) & (x > high * level))
    profile.pending[:, offset:offset + x.shape[1]] = np.where(outlier, ref, x)


def close_block(profile: DailyProfile, block: int, level: np.ndarray) -> np.ndarray:
    """Store finished block ``block - 1``; return the prediction of block ``block`` given the ``level``."""
    width = profile.history.shape[1]
    profile.history[:, (block - 1) % width] = nanmedian_rows(profile.pending)
    profile.pending[:] = np.nan
    if block % profile.slots == 0:
        _decide(profile)
    same_slot = profile.history[:, block % profile.slots::profile.slots]
    expected = nanmedian_rows(same_slot)
    days = np.count_nonzero(~np.isnan(same_slot), axis=1)
    profile.reference[:] = np.where(days >= profile.params.min_days, expected, np.nan)
    profile.level[:] = level
    return baseline(level, np.where(days > 0, expected, profile.floor), days, profile.mode, profile.params)


def forget(profile: DailyProfile, rows: np.ndarray) -> None:
    """Discard the profile of ``rows`` (boolean): their level's history was discarded too."""
    profile.history[rows] = np.nan
    profile.mode[rows] = UNDECIDED
    profile.floor[rows] = np.nan


def baseline(level: np.ndarray, expected: np.ndarray, days: np.ndarray, mode: np.ndarray,
             params: SeasonParams) -> np.ndarray:
    """The prediction per entity: slot median, level, or the lower of both (see the module docstring)."""
    trusted = (mode == DAILY) & (days >= params.min_days)
    cautious = np.fmin(level, expected)  # NaN expected (empty profile) leaves the level
    return np.where(trusted, expected, np.where(mode == FLAT, level, cautious))


def daily_strength(history: np.ndarray, slots: int) -> np.ndarray:
    """F_S per row of a (E, days x slots) profile; NaN with fewer same-slot pairs than a day has slots."""
    by_day = history.reshape(history.shape[0], -1, slots)
    change = np.abs(np.diff(by_day, axis=1)).reshape(history.shape[0], -1)
    pairs = np.count_nonzero(~np.isnan(change), axis=1)
    noise_var = (MAD_TO_SIGMA * nanmedian_rows(change)) ** 2 / 2.0  # a difference carries the noise twice
    total_var = _nanvar_rows(history)
    ratio = np.divide(noise_var, total_var, out=np.ones_like(total_var), where=total_var > 0)
    return np.where(pairs >= slots, 1.0 - ratio, np.nan)


def slot_medians(history: np.ndarray, slots: int) -> np.ndarray:
    """(E, slots) median of each time-of-day slot over the days of a (E, days x slots) profile."""
    by_slot = history.reshape(history.shape[0], -1, slots).transpose(0, 2, 1)
    return nanmedian_rows(by_slot.reshape(-1, by_slot.shape[2])).reshape(history.shape[0], slots)


def _decide(profile: DailyProfile) -> None:
    """Re-estimate the floor and each entity's mode from the profile (once a day)."""
    medians = slot_medians(profile.history, profile.slots)
    profile.floor[:] = np.fmin.reduce(medians, axis=1)
    strength = daily_strength(profile.history, profile.slots)
    with np.errstate(invalid="ignore"):
        shallow = profile.floor >= profile.deepest * nanmedian_rows(medians)
        daily = (strength >= profile.params.strength) & shallow
    profile.mode[:] = np.where(np.isnan(strength), UNDECIDED, np.where(daily, DAILY, FLAT))


def _nanvar_rows(a: np.ndarray) -> np.ndarray:
    """Variance of each row ignoring NaN (0 for an empty row), without numpy's empty-slice warnings."""
    known = ~np.isnan(a)
    n = np.maximum(np.count_nonzero(known, axis=1), 1)
    mean = np.where(known, a, 0.0).sum(axis=1) / n
    # the stubs type an axis reduction (sum) as Any: name the array it is
    var: np.ndarray = np.where(known, (a - mean[:, None]) ** 2, 0.0).sum(axis=1) / n
    return var
