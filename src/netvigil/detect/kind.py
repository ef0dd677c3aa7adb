"""Fusion of an entity's signals and, per incident, its likely kind: government shutdown or power/natural outage.

Why: in one signal a shutdown and a power cut look alike; what a rights group
needs first is which of the two it probably was, and why (issue 11; IODA and
Cloudflare Radar publish outages without this judgement, research notes §5.1).

**Method**: naive-Bayes log-odds.  Each piece of evidence adds the log of its
likelihood ratio ``P(e | shutdown) / P(e | outage)``; the sum is ``kind_score``
(0 = no evidence either way).  An incident still open at the end of the data
counts as lasting at least until then (``until``).  ``kind`` is ``government_shutdown`` from
``+DECIDE`` on, ``power_or_natural_outage`` from ``-DECIDE`` down, otherwise
``undetermined``.  Every piece adds one sentence to ``kind_evidence``.

| evidence | log LR | source |
|---|---|---|
| onset could be on :00 / :30 (bins < 30 min) | ln((0.848 + 0.152 q) / (0.395 + 0.605 q)) | Bischof et al., SIGCOMM 2023 (research notes §3.4): 84.8 % of shutdowns vs 39.5 % of other outages start on the hour or half hour; ``q = step / 30 min`` is the chance that an onset off the mark still has one within its bin |
| onset off the hour (bins < 30 min) | ln(0.152 (1 - q) / (0.605 (1 - q))) = -1.38 | same |
| lasted >= 22.3 h | +0.9 | p90 of shutdowns 22.3 h vs p90 of outages 10.4 h (§3.4): ln(0.10 / 0.04), the 0.04 interpolated |
| lasted >= 5.5 h / < 2 h | +0.5 / -0.5 | netvigil, from the median durations 5.5 h vs 2.0 h (§3.4) |
| recurs at the same time of day (>= 2 other days in 14) | +2.0 | netvigil: curfew-style shutdowns (Myanmar 2021, §4); scheduled load-shedding also recurs, hence not decisive alone |
| BGP-visible prefixes withdrawn | +1.0 | netvigil: routes withdrawn by the operator (Egypt 2011, Iran 2019 partial, §2.4); a power cut leaves most routes announced |
| probing/telescope down, BGP watched and not down | -1.0 | same reasoning, the other way |
| national reach (a country entity, a region while its country is down, or >= half of its regions) | +0.5 | netvigil: national full-network shutdowns are the bulk of matched ones (§3.3); national blackouts exist too, hence weak |
| >= 3 regions down within SIMULTANEOUS (or one bin) of each other | +1.0 | netvigil: a central order switches regions at once; a grid collapse cascades over tens of minutes.  A staggered onset is not counted against: shutdowns are often rolled out ISP by ISP (Iran 2019) |
| >= 3 regions back within SIMULTANEOUS of each other | +0.5 | netvigil: an order is lifted at once |
| their recoveries spread over more than 3 h | -1.5 | netvigil: a grid is restored feeder by feeder (ragged recovery); an order is lifted at once, though a shutdown, too, can be lifted region by region over days (Iran 2019) |

The netvigil weights are judgement, not fitted; the catalogue evaluation
(``netvigil eval outages``) reports how often the kind agrees with IODA's cause.

**Fusion**: incidents already merge detections of one entity across signals
(:mod:`.incidents`, IODA's product-of-areas severity); here the entity's watched
signals are compared with those that dropped, and the agreement is stated.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from netvigil.detect.records import (
    GOVERNMENT_SHUTDOWN,
    POWER_OR_NATURAL_OUTAGE,
    UNDETERMINED,
    Incident,
    SignalKind,
    country_of,
)

DECIDE = 1.0  # log-odds e^1 = 2.7 : 1 before a kind is named (netvigil)
SIMULTANEOUS = timedelta(minutes=15)  # netvigil: onsets this close count as one switch
RAGGED = timedelta(hours=3)  # netvigil: recoveries spread wider than this are ragged
RECURRENCE_WINDOW = timedelta(days=14)
SAME_TIME = timedelta(minutes=30)
SHUTDOWN_ON_MARK, OUTAGE_ON_MARK = 0.848, 0.395  # Bischof et al. 2023 (research notes §3.4)
LONG, SHORT, VERY_LONG = timedelta(hours=5.5), timedelta(hours=2), timedelta(hours=22.3)
DROPPING = (SignalKind.ACTIVE_PROBING, SignalKind.TELESCOPE, SignalKind.REACHABILITY)


def classify(incidents: Iterable[Incident], watched: Mapping[str, set[SignalKind]] | None = None,
             until: datetime | None = None) -> list[Incident]:
    """Each incident with ``kind``, ``kind_evidence`` and ``kind_score`` set; order kept.

    ``watched`` maps an entity to the kinds of signal observed for it (for "BGP
    watched and not down", and the fusion sentence); without it only what
    dropped is known.
    """
    chosen = list(incidents)
    by_country: dict[str, list[Incident]] = defaultdict(list)
    by_entity: dict[str, list[Incident]] = defaultdict(list)
    for i in chosen:
        by_country[country_of(i.entity)].append(i)
        by_entity[i.entity].append(i)
    return [_judge(i, by_country[country_of(i.entity)], by_entity[i.entity], (watched or {}).get(i.entity), until)
            for i in chosen]


def _judge(incident: Incident, country: list[Incident], same_entity: list[Incident],
           watched: set[SignalKind] | None, until: datetime | None) -> Incident:
    evidence: list[tuple[float, str]] = []
    evidence += _round_hours(incident)
    evidence += _duration(incident, until)
    evidence += _recurrence(incident, same_entity)
    evidence += _routing(incident, watched)
    evidence += _reach_and_timing(incident, country)
    score = sum((w for w, _ in evidence), 0.0)
    kind = GOVERNMENT_SHUTDOWN if score >= DECIDE else POWER_OR_NATURAL_OUTAGE if score <= -DECIDE else UNDETERMINED
    sentences = tuple(text for _, text in evidence) + _fusion(incident, watched)
    return replace(incident, kind=kind, kind_evidence=sentences, kind_score=score)


def _step(incident: Incident) -> timedelta | None:
    steps = [d.step for d in incident.detections if d.start == incident.start]
    return min(steps) if steps else None


def _round_hours(incident: Incident) -> list[tuple[float, str]]:
    step = _step(incident)
    if step is None or step >= timedelta(minutes=30):
        return []  # with bins of 30 min or more every onset could be on the hour: no evidence
    q = step / timedelta(minutes=30)  # chance that an onset off the mark has one within its bin
    if incident.on_the_hour:
        ratio = (SHUTDOWN_ON_MARK + (1 - SHUTDOWN_ON_MARK) * q) / (OUTAGE_ON_MARK + (1 - OUTAGE_ON_MARK) * q)
        return [(math.log(ratio), (f"Onset on a round hour or half hour ({_hhmm(incident)} UTC, within one bin); "
                                  "85 % of shutdowns start so, against 40 % of other outages."))]
    ratio = (1 - SHUTDOWN_ON_MARK) / (1 - OUTAGE_ON_MARK)
    return [(math.log(ratio), f"Onset off the hour ({_hhmm(incident)} UTC), as most spontaneous outages.")]


def _duration(incident: Incident, until: datetime | None) -> list[tuple[float, str]]:
    end = incident.end or until
    if end is None:
        return []
    length = end - incident.start
    hours = length.total_seconds() / 3600
    lasted = "Lasted" if incident.end is not None else "Still ongoing after"
    if length >= VERY_LONG:
        return [(0.9, f"{lasted} {hours:.1f} h: one shutdown in ten lasts this long, far fewer other outages.")]
    if incident.end is None:
        return []  # a short ongoing incident may yet last long
    if length >= LONG:
        return [(0.5, f"Lasted {hours:.1f} h, longer than the median shutdown (5.5 h).")]
    if length < SHORT:
        return [(-0.5, f"Lasted {hours:.1f} h, shorter than the median outage (2 h).")]
    return []


def _recurrence(incident: Incident, same_entity: list[Incident]) -> list[tuple[float, str]]:
    def time_of_day(i: Incident) -> timedelta:
        return i.start - i.start.replace(hour=0, minute=0, second=0, microsecond=0)

    mine = time_of_day(incident)
    days = {o.start.date() for o in same_entity
            if o is not incident and abs(o.start - incident.start) <= RECURRENCE_WINDOW
            and o.start.date() != incident.start.date()
            and min(abs(time_of_day(o) - mine), timedelta(days=1) - abs(time_of_day(o) - mine)) <= SAME_TIME}
    if len(days) >= 2:
        return [(2.0, (f"Recurs at the same time of day ({_hhmm(incident)} UTC) on {len(days)} other days "
                      "within two weeks: a curfew-style pattern (scheduled load-shedding can look alike)."))]
    return []


def _kinds(incident: Incident) -> set[SignalKind]:
    return {d.kind for d in incident.detections}


def _routing(incident: Incident, watched: set[SignalKind] | None) -> list[tuple[float, str]]:
    dropped = _kinds(incident)
    if SignalKind.BGP in dropped:
        return [(1.0, ("BGP-visible prefixes were withdrawn: the networks were taken off the routing table, "
                      "which a power cut rarely does."))]
    if watched and SignalKind.BGP in watched and dropped & set(DROPPING):
        return [(-1.0, ("Hosts stopped answering while BGP routes stayed announced, as when power fails but "
                       "the routers keep running."))]
    return []


def _reach_and_timing(incident: Incident, country: list[Incident]) -> list[tuple[float, str]]:
    out: list[tuple[float, str]] = []
    regions = {e for i in country for e in i.entities if e.count("/") == 1}
    together = [i for i in country if i.entity.count("/") == 1 and abs(i.start - incident.start) <= timedelta(hours=2)]
    down = {i.entity for i in together}
    national = incident.entity.count("/") == 0
    within = not national and any(i.entity.count("/") == 0 and _overlaps(i, incident) for i in country)
    if national or within or (len(regions) >= 2 and 2 * len(down) >= len(regions)):
        where = ("the whole country's signal dropped within two hours" if national
                 else "the country's own signal dropped while this one was down" if within
                 else f"{len(down)} of {len(regions)} regions dropped within two hours")
        out.append((0.5, f"National reach: {where}."))
    if len(together) >= 3:
        onsets = sorted(i.start for i in together)
        spread = onsets[-1] - onsets[0]
        tolerance = max(SIMULTANEOUS, *(_step(i) or SIMULTANEOUS for i in together))
        if spread <= tolerance:
            out.append((1.0, (f"Sharp simultaneous onset: {len(together)} regions went down within "
                             f"{_minutes(spread)} of each other, as when one order is executed.")))
        ends = sorted(i.end for i in together if i.end is not None)
        if len(ends) >= 3:
            spread = ends[-1] - ends[0]
            if spread <= SIMULTANEOUS:
                out.append((0.5, (f"Simultaneous recovery: {len(ends)} regions came back within "
                                 f"{_minutes(spread)}, as when an order is lifted.")))
            elif spread > RAGGED:
                out.append((-1.5, (f"Ragged recovery: {len(ends)} regions came back over "
                                  f"{spread.total_seconds() / 3600:.1f} h, as a grid restored feeder by feeder.")))
    return out


def _overlaps(a: Incident, b: Incident) -> bool:
    return (b.end is None or a.start < b.end) and (a.end is None or b.start < a.end)


def _fusion(incident: Incident, watched: set[SignalKind] | None) -> tuple[str, ...]:
    dropped = sorted(k.value for k in _kinds(incident))
    if not watched or len(watched) < 2:
        return ()
    quiet = sorted(k.value for k in watched - _kinds(incident))
    tail = f"; not in {', '.join(quiet)}" if quiet else ""
    return ((f"Seen in {len(dropped)} of {len(watched)} signals watched for this entity "
            f"({', '.join(dropped)}{tail})."),)


def _hhmm(incident: Incident) -> str:
    return incident.start.strftime("%H:%M")


def _minutes(span: timedelta) -> str:
    return f"{span.total_seconds() / 60:.0f} min"


def watched_kinds(pairs: Iterable[tuple[str, SignalKind]]) -> dict[str, set[SignalKind]]:
    """``entity -> kinds`` from (entity, kind) pairs, e.g. the rows of the signal matrices."""
    out: dict[str, set[SignalKind]] = defaultdict(set)
    for entity, kind in pairs:
        out[entity].add(kind)
    return dict(out)
