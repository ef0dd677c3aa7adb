"""Scoring incidents against a ground-truth catalog of outages and shutdowns.

Matching rule: an incident and a truth event match when (1) the incident's
country, the first part of any of its entities, is one of the event's countries,
and (2) their time intervals overlap.  An open end (incident still ongoing, or a
catalog event without an end) extends to the end of the evaluation window.  Only
truth events that overlap the window and concern a country the signals cover are
scored, so a catalog spanning years is not counted against a week of signals.

- precision: share of incidents that match at least one truth event;
- recall: share of truth events matched by at least one incident;
- onset error: for each matched event, the start of the matching incident that
  overlaps it longest, minus the event's start (signed; negative = earlier);
- end error: the same for ends, when the event and that incident both have one.

Catalogs differ in resolution: IODA's investigated outages have minutes, Access
Now STOP only days (an event then spans its start day 00:00 UTC to the day after
its end day), so STOP onset errors carry up to a day of label uncertainty.  IODA's
list has positives only and STOP is not a signal-based truth (Bischof et al. 2023
matched 8.4 % of STOP records to IODA outages; research notes §3.3): precision
against either is a lower bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import mean, median

from netvigil.detect.records import Incident, country_of


@dataclass(frozen=True, slots=True, kw_only=True)
class TruthEvent:
    """One labelled outage: where (country codes), when, and what the catalog called it."""

    countries: tuple[str, ...]
    start: datetime
    end: datetime | None
    label: str = ""
    scope: str = ""  # "national", "regional", "network" or "" (unknown)
    cause: str = ""  # one of records.KINDS, or "" when the catalogue gives none usable


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    truth: TruthEvent
    incident: Incident
    onset_error: timedelta
    end_error: timedelta | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Scores:
    incidents: int
    matched_incidents: int
    events: int
    matched_events: int
    matches: tuple[Match, ...]
    scored_events: tuple[TruthEvent, ...] = ()  # every event in the window, matched or not
    false_alarms: tuple[Incident, ...] = ()  # incidents matching no event

    @property
    def precision(self) -> float | None:
        return self.matched_incidents / self.incidents if self.incidents else None

    @property
    def recall(self) -> float | None:
        return self.matched_events / self.events if self.events else None

    def onset_errors_hours(self) -> list[float]:
        return [m.onset_error.total_seconds() / 3600 for m in self.matches]

    def end_errors_hours(self) -> list[float]:
        return [m.end_error.total_seconds() / 3600 for m in self.matches if m.end_error is not None]

    def summary(self) -> dict[str, float | int | None]:
        onset, end = self.onset_errors_hours(), self.end_errors_hours()
        return {
            "incidents": self.incidents, "events": self.events,
            "precision": self.precision, "recall": self.recall,
            "onset_error_median_h": median(onset) if onset else None,
            "onset_error_mean_abs_h": mean(abs(e) for e in onset) if onset else None,
            "end_error_median_h": median(end) if end else None,
            "end_error_mean_abs_h": mean(abs(e) for e in end) if end else None,
        }


def score(incidents: list[Incident], truth: list[TruthEvent], *, since: datetime, until: datetime,
          countries: set[str]) -> Scores:
    """Score ``incidents`` against the ``truth`` events of ``countries`` overlapping ``[since, until)``."""
    events = [t for t in truth if set(t.countries) & countries and _overlap(t.start, t.end, since, until, until)]
    mine = [i for i in incidents if _overlap(i.start, i.end, since, until, until)]
    matches = []
    matched_incidents: set[int] = set()
    for event in events:
        hits = [(n, i) for n, i in enumerate(mine) if _matches(i, event, until)]
        matched_incidents.update(n for n, _ in hits)
        if hits:
            best = max((i for _, i in hits), key=lambda i: (_overlap_length(i, event, until), -i.start.timestamp()))
            end_error = None if best.end is None or event.end is None else best.end - event.end
            matches.append(Match(truth=event, incident=best, onset_error=best.start - event.start,
                                 end_error=end_error))
    return Scores(incidents=len(mine), matched_incidents=len(matched_incidents), events=len(events),
                  matched_events=len(matches), matches=tuple(matches), scored_events=tuple(events),
                  false_alarms=tuple(i for n, i in enumerate(mine) if n not in matched_incidents))


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassScore:
    """Recall of the catalogue's events of one class, and our incidents of that class that matched nothing."""

    name: str
    events: int
    matched: int
    false_alarms: int
    kind_agrees: int = 0  # matched events whose cause is known and equals the matching incident's kind
    kind_known: int = 0  # matched events whose cause is known

    @property
    def recall(self) -> float | None:
        return self.matched / self.events if self.events else None


def per_class(scores: Scores) -> list[ClassScore]:
    """Recall and false alarms per class: scope (national / regional / network) and cause (kind).

    An incident's scope is that of its entity (``IR`` national, ``IR/Tehran``
    regional, ``IR/AS12880`` network) and its class of cause is its ``kind``; an
    event's are the catalogue's.
    """
    matched = {id(m.truth): m for m in scores.matches}
    out = []
    axes: tuple[tuple[str, Callable[[TruthEvent], str], Callable[[Incident], str]], ...] = (
        ("scope", lambda t: t.scope, incident_scope), ("cause", lambda t: t.cause, lambda i: i.kind))
    for axis, of_event, of_incident in axes:
        names = sorted({of_event(t) or "unknown" for t in scores.scored_events}
                       | {of_incident(i) for i in scores.false_alarms})
        for name in names:
            events = [t for t in scores.scored_events if (of_event(t) or "unknown") == name]
            hits = [matched[id(t)] for t in events if id(t) in matched]
            known = [m for m in hits if m.truth.cause]
            out.append(ClassScore(
                name=f"{axis}={name}", events=len(events), matched=len(hits),
                false_alarms=sum(of_incident(i) == name for i in scores.false_alarms),
                kind_agrees=sum(m.incident.kind == m.truth.cause for m in known), kind_known=len(known)))
    return out


def incident_scope(incident: Incident) -> str:
    """national for a country entity, network for an ``AS<number>`` part, regional otherwise."""
    parts = incident.entity.split("/")
    if len(parts) == 1:
        return "national"
    return "network" if parts[1].upper().startswith("AS") and parts[1][2:].isdigit() else "regional"


def _matches(incident: Incident, event: TruthEvent, until: datetime) -> bool:
    same_country = any(country_of(e) in event.countries for e in incident.entities)
    return same_country and _overlap(incident.start, incident.end, event.start, event.end, until)


def _overlap_length(incident: Incident, event: TruthEvent, until: datetime) -> timedelta:
    return min(incident.end or until, event.end or until) - max(incident.start, event.start)


def _overlap(a_start: datetime, a_end: datetime | None, b_start: datetime, b_end: datetime | None,
             until: datetime) -> bool:
    return a_start < (b_end or until) and b_start < (a_end or until)
