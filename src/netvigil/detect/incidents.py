"""Merging detections across signals and neighbouring bins into incidents.

Detections of the same group (by default the same entity) merge when they overlap
or when the gap between them is at most one bin of the coarser of the two signals
("neighbouring bins"), or, after a critical detection, at most :data:`RECOVERY`
(the recovery belongs to the incident).  IODA merges alerts of several datasources into one event
the same way (``/outages/events`` with ``overall=true``, research notes §1.4) and
scores it with the product of the datasources' Alert Areas (Help.js "Outage
Severity Scores"): that product is the incident's ``severity``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from math import prod

from netvigil.detect.records import Detection, Incident, Level

HALF_HOUR = timedelta(minutes=30)
# Recovery is part of the incident (issue 11): after a critical detection, what the same group
# shows within this time is the ragged recovery (grids and links restored one by one, relapses),
# not a new incident.  watchtower-sentry's ``waitnormal`` likewise holds an alert until the signal
# has been normal for a minimum duration (research notes §1.4).  netvigil: 3 hours, longer than
# the relapses of a feeder-by-feeder restoration, far shorter than the 16 hours between the
# nights of a curfew, which stay incidents of their own.
RECOVERY = timedelta(hours=3)


def merge_incidents(detections: Iterable[Detection],
                    group: Callable[[str], str] = lambda entity: entity,
                    recovery: timedelta = timedelta(0)) -> list[Incident]:
    """Incidents sorted by start; ``group`` maps an entity to what it merges with (e.g. its country).

    ``recovery``: how long after a critical detection more detections still belong to
    it; ``netvigil detect`` uses :data:`RECOVERY`, the default 0 merges neighbouring bins only.
    """
    by_group: dict[str, list[Detection]] = defaultdict(list)
    for d in detections:
        by_group[group(d.entity)].append(d)
    incidents = [_incident(cluster) for members in by_group.values() for cluster in _clusters(members, recovery)]
    return sorted(incidents, key=lambda i: (i.start, i.entities))


def on_the_hour(onset: datetime, step: timedelta) -> bool:
    """Could the onset have been at :00 or :30?  True when such a mark lies in ``[onset - step, onset]``.

    The first abnormal bin starts at ``onset`` and the bin before it was normal,
    so the change happened within one bin before the onset.
    """
    since_mark = (onset - onset.replace(minute=0, second=0, microsecond=0)) % HALF_HOUR
    return since_mark <= step


def _clusters(detections: list[Detection], recovery: timedelta) -> list[list[Detection]]:
    ordered = sorted(detections, key=lambda d: d.start)
    clusters: list[list[Detection]] = []
    reach: datetime | None = None  # how far the current cluster extends, None = ongoing
    for d in ordered:
        if clusters and (reach is None or d.start <= reach):
            clusters[-1].append(d)
        else:
            clusters.append([d])
            reach = d.start
        if reach is not None:
            settle = recovery if d.level >= Level.CRITICAL else timedelta(0)
            reach = None if d.end is None else max(reach, d.end + max(settle, *(c.step for c in clusters[-1])))
    return clusters


def _incident(cluster: list[Detection]) -> Incident:
    start = min(d.start for d in cluster)
    ends = [d.end for d in cluster]
    areas: dict[str, float] = defaultdict(float)
    confidences: dict[str, float] = defaultdict(float)
    for d in cluster:
        areas[d.source] += d.area
        confidences[d.source] = max(confidences[d.source], d.confidence)
    first_step = min(d.step for d in cluster if d.start == start)
    return Incident(
        entities=tuple(sorted({d.entity for d in cluster}, key=lambda e: (e.count("/"), e))),
        start=start,
        end=None if None in ends else max(e for e in ends if e is not None),
        level=max(d.level for d in cluster),
        severity=prod(areas.values()),
        confidence=1.0 - prod(1.0 - c for c in confidences.values()),
        signals=tuple(sorted(areas)),
        on_the_hour=on_the_hour(start, first_step),
        detections=tuple(cluster),
    )
