"""Signals from netvigil's own data, given as plain records: verdict counts and probe reachability rounds.

The store (or the probe) hands over plain records; turning them into signal
points is pure, so it is tested without a database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from netvigil.detect.records import SignalKind, SignalPoint

VERDICTS_SOURCE = "netvigil.verdicts"
MEASUREMENTS_SOURCE = "netvigil.measurements"
# There is no measurement-count kind: a country's count of volunteer measurements is a
# passive, bursty count of what arrives from it, like a telescope's unique sources, so
# IODA's telescope thresholds (25 % / 10 % of a 7-day median) judge it, and the ratio
# detector's ``min_prediction`` (20 per bin) leaves countries with thinner data unjudged.
MEASUREMENT_COUNT_KIND = SignalKind.TELESCOPE
REACHABILITY_SOURCE = "probe.reachability"


@dataclass(frozen=True, slots=True, kw_only=True)
class VerdictCount:
    """Summary verdicts of one (country, ASN, domain) in one time bin, counted by outcome."""

    cc: str
    asn: str  # "AS20294" or "20294"
    domain: str
    time: datetime
    blocked: int
    down: int
    ok: int
    unknown: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ReachabilityRound:
    """One round of active probes towards one entity: how many were sent, how many answered."""

    entity: str
    time: datetime
    sent: int
    answered: int


def verdict_points(counts: Iterable[VerdictCount]) -> list[SignalPoint]:
    """Anomaly rate = blocked / (blocked + down + ok), weighted by that count.

    ``unknown`` verdicts carry no evidence either way and are not counted; a bin
    with nothing but unknowns yields no point (missing, not zero).
    """
    points = []
    for c in counts:
        judged = c.blocked + c.down + c.ok
        if judged:
            asn = c.asn if c.asn.upper().startswith("AS") else f"AS{c.asn}"
            points.append(SignalPoint(entity=f"{c.cc}/{asn.upper()}/{c.domain}", source=VERDICTS_SOURCE,
                                      time=c.time, value=c.blocked / judged, kind=SignalKind.ANOMALY_RATE,
                                      weight=float(judged)))
    return points


def reachability_points(rounds: Iterable[ReachabilityRound]) -> list[SignalPoint]:
    """Share of probes answered, weighted by probes sent; a round with no probe sent yields no point."""
    points = []
    for r in rounds:
        if r.answered > r.sent or r.answered < 0:
            raise ValueError(f"round {r}: answered must be within 0..sent")
        if r.sent:
            points.append(SignalPoint(entity=r.entity, source=REACHABILITY_SOURCE, time=r.time,
                                      value=r.answered / r.sent, kind=SignalKind.REACHABILITY,
                                      weight=float(r.sent)))
    return points


def measurement_count_points(counts: Iterable[VerdictCount]) -> list[SignalPoint]:
    """Measurements per country per bin, with the zeros that make a shutdown visible.

    A country that goes silent has no rows at all, and a missing point is never an
    outage; so a bin in which the store heard from some country but not from this one
    is a zero for it, from its first bin to the last bin heard from anyone (a shutdown
    still going on at the end of the data stays visible).  A bin in which nobody was
    heard is a gap in the data, and stays missing.
    """
    per_bin: Counter[tuple[str, datetime]] = Counter()
    first: dict[str, datetime] = {}
    for c in counts:
        per_bin[(c.cc, c.time)] += c.blocked + c.down + c.ok + c.unknown
        first[c.cc] = min(first.get(c.cc, c.time), c.time)
    heard = sorted({t for _, t in per_bin})
    return [SignalPoint(entity=cc, source=MEASUREMENTS_SOURCE, time=t, value=float(per_bin[(cc, t)]),
                        kind=MEASUREMENT_COUNT_KIND)
            for cc in sorted(first) for t in heard if t >= first[cc]]
