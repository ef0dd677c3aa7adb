"""The typed records of outage and blocking detection: points in, detections, incidents out.

Times are timezone-aware UTC ``datetime`` everywhere; importers convert local
times at the edge (:mod:`netvigil.signals`).  An entity is a path of names
joined by ``/`` whose first part is the ISO 3166-1 alpha-2 country code:
``IR`` (country), ``IR/Tehran`` (province), ``UG/AS20294`` (network),
``UG/AS20294/twitter.com`` (a website on a network).  Evaluation matches
ground truth on that first part.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Any


class SignalKind(StrEnum):
    """What a signal measures; it chooses the detector and its thresholds (see ``ratio.KIND_PARAMS``)."""

    BGP = "bgp"  # visible /24 blocks (IODA ``bgp``)
    ACTIVE_PROBING = "active-probing"  # responsive /24 blocks or an index built from probing (IODA ``ping-slash24``, Monash)
    TELESCOPE = "telescope"  # unique source IPs seen by a darknet (IODA ``merit-nt``)
    ANOMALY_RATE = "anomaly-rate"  # per-measurement blocking scores in [0, 1] (OONI analysis, netvigil verdicts)
    REACHABILITY = "reachability"  # active-probing rounds: share of probes answered, weight = probes sent


GOVERNMENT_SHUTDOWN = "government_shutdown"
POWER_OR_NATURAL_OUTAGE = "power_or_natural_outage"
UNDETERMINED = "undetermined"
KINDS = (GOVERNMENT_SHUTDOWN, POWER_OR_NATURAL_OUTAGE, UNDETERMINED)


class Level(IntEnum):
    """Alert levels, ordered; names follow IODA's watchtower alert levels."""

    NORMAL = 0
    WARNING = 1
    CRITICAL = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalPoint:
    """One value of one signal for one entity at one time.

    ``weight`` is how much evidence the value carries: the number of measurements
    averaged into an anomaly rate, or the number of probes in a reachability round;
    1 for a plain count.  A missing value is a missing point, never a zero.
    """

    entity: str
    source: str
    time: datetime
    value: float
    kind: SignalKind = SignalKind.ACTIVE_PROBING
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.time.tzinfo is None or self.time.utcoffset() != timedelta(0):
            raise ValueError(f"SignalPoint time must be UTC, got {self.time!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Detection:
    """One stretch of abnormal bins on one signal of one entity, as one detector saw it.

    ``end`` is when the signal was first back to normal (exclusive), ``None`` while
    the stretch lasts to the end of the data.  ``area`` is IODA's Alert Area: the sum
    over the stretch of the relative drop in percent times the minutes it lasted.
    ``alerted_at`` is the data time at which the detector could first report it,
    so streaming latency is ``alerted_at - start``.
    """

    entity: str
    source: str
    kind: SignalKind
    method: str
    start: datetime
    end: datetime | None
    step: timedelta
    level: Level
    area: float
    confidence: float
    alerted_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Incident:
    """Detections of one entity (or group of entities) merged across signals and neighbouring bins.

    ``severity`` is IODA's overall score: the product over signals of each
    signal's Alert Area.  ``confidence`` combines the signals' confidences as
    independent evidence (noisy-OR).  ``on_the_hour`` says whether the onset could
    have been at a :00 or :30 mark given the bin size; 84.8 % of shutdowns start on
    the hour or half hour against 39.5 % of other outages (Bischof et al.,
    SIGCOMM 2023, research notes §3.4).  With bins of 30 minutes or more every
    onset qualifies, so the flag only discriminates on finer bins.
    """

    entities: tuple[str, ...]
    start: datetime
    end: datetime | None
    level: Level
    severity: float
    confidence: float
    signals: tuple[str, ...]
    on_the_hour: bool
    detections: tuple[Detection, ...] = ()
    # Likely kind (issue 11, :mod:`.kind`): one of KINDS, the sentences behind it, and the
    # log-odds of a government shutdown against a power or natural outage.
    kind: str = "undetermined"
    kind_evidence: tuple[str, ...] = ()
    kind_score: float = 0.0

    @property
    def entity(self) -> str:
        return self.entities[0]

    def to_dict(self) -> dict[str, Any]:
        """The stable ``netvigil detect --format jsonl`` shape."""
        return {
            "entity": self.entity,
            "entities": list(self.entities),
            "start": iso(self.start),
            "end": None if self.end is None else iso(self.end),
            "level": self.level.name.lower(),
            "severity": round(self.severity, 3),
            "confidence": round(self.confidence, 3),
            "signals": list(self.signals),
            "on_the_hour": self.on_the_hour,
            "kind": self.kind,
            "kind_evidence": list(self.kind_evidence),
            "kind_score": round(self.kind_score, 3),
        }


def iso(t: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix: ``2019-11-16T17:30:00Z``."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def country_of(entity: str) -> str:
    """The country code an entity path starts with (``IR/Tehran`` -> ``IR``)."""
    return entity.split("/", 1)[0]


def incident_from_dict(doc: dict[str, Any]) -> Incident:
    """Read back one line of ``netvigil detect --format jsonl`` (detections are not part of it)."""
    end = doc.get("end")
    return Incident(
        entities=tuple(doc.get("entities") or [doc["entity"]]),
        start=_parse_iso(doc["start"]), end=None if end is None else _parse_iso(end),
        level=Level[str(doc["level"]).upper()], severity=float(doc["severity"]),
        confidence=float(doc["confidence"]), signals=tuple(doc["signals"]), on_the_hour=bool(doc["on_the_hour"]),
        kind=str(doc.get("kind") or "undetermined"), kind_evidence=tuple(doc.get("kind_evidence") or ()),
        kind_score=float(doc.get("kind_score") or 0.0),
    )


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
