"""Everything a report states, read from the store in one place.

Kept apart from rendering so that tests can check the facts (counts, citations)
without parsing HTML, and so that the HTML and PDF cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from netvigil.model.places import country_label
from netvigil.store import aggregation as agg
from netvigil.store import explorer, queries, treaty
from netvigil.store import incidents as inc
from netvigil.store.treaty import LegalContext

CITED_PER_GROUP = 3  # latest measurements cited for each blocked (domain, technique)
INCIDENT_MARGIN = timedelta(hours=12)  # signal shown either side of an incident in its own chart


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportData:
    cc: str
    name: str
    start: datetime
    end: datetime  # exclusive
    generated_at: datetime
    totals: dict[str, int]
    daily: list[dict[str, Any]]
    techniques: list[dict[str, Any]]
    networks: list[dict[str, Any]]
    blocked: list[dict[str, Any]]
    cited: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    signals: list[dict[str, Any]]
    versions: list[tuple[str, str]]
    legal: LegalContext
    sites: list[dict[str, Any]] = field(default_factory=list)  # per blocked domain: since when, how, networks
    network_layers: list[dict[str, Any]] = field(default_factory=list)  # per network: layers it blocks at
    technique_days: list[dict[str, Any]] = field(default_factory=list)
    incident_signals: list[list[dict[str, Any]]] = field(default_factory=list)  # per incident, around it
    rules: list[dict[str, Any]] = field(default_factory=list)
    evidence: dict[str, dict[str, Any]] = field(default_factory=dict)  # cited uid -> summary evidence


def gather(con: duckdb.DuckDBPyConnection, cc: str, start: datetime, end: datetime, *,
           legal_context: bool = True) -> ReportData:
    """Every fact of the report.  The legal context is always included now (``legal_context``
    is kept for callers of the earlier signature)."""
    def counts(axis: agg.Axis | None) -> list[dict[str, Any]]:
        return agg.aggregate(con, agg.AggregationQuery(axis_x=axis, probe_cc=cc, since=start.date(),
                                                       until=end.date()))

    flt = queries.MeasurementFilter(probe_cc=cc, since=start, until=end)
    cited = queries.cited_measurements(con, flt, per_group=CITED_PER_GROUP)
    incidents = _with_kinds(con, inc.incidents(con, country=cc, overlapping=(start, end)))
    return ReportData(
        cc=cc, name=country_label(cc), start=start, end=end, generated_at=datetime.now(UTC).replace(microsecond=0),
        totals=counts(None)[0], daily=counts(agg.Axis.DAY),
        techniques=sorted((r for r in counts(agg.Axis.TECHNIQUE) if r["anomaly_count"]),
                          key=lambda r: -r["anomaly_count"]),
        networks=sorted(counts(agg.Axis.ASN), key=lambda r: -r["measurement_count"]),
        blocked=queries.blocked_domains(con, flt, limit=500),
        cited=cited, incidents=incidents,
        signals=inc.signal_series(con, entity=cc, include_children=False, since=start, until=end),
        versions=queries.verdict_versions(con, cc, start, end),
        legal=treaty.legal_context(cc),
        sites=explorer.country_domains(con, cc, start, end),
        network_layers=explorer.country_networks(con, cc, start, end),
        technique_days=explorer.technique_days(con, *explorer.country_where(cc, start, end)),
        incident_signals=[_around(con, i) for i in incidents],
        rules=explorer.rules_used(con, cc, start, end),
        evidence=explorer.evidence_of(con, [c["uid"] for c in cited]),
    )


def _with_kinds(con: duckdb.DuckDBPyConnection, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Incidents with detection's ``kind`` and ``kind_evidence`` where stored (None: not assessed)."""
    kinds = explorer.incident_kinds(con)
    out = []
    for item in items:
        found = kinds.get((tuple(item["entities"]), item["start"]), {})
        out.append({**item, "kind": found.get("kind"), "kind_evidence": found.get("kind_evidence", [])})
    return out


def _around(con: duckdb.DuckDBPyConnection, item: dict[str, Any]) -> list[dict[str, Any]]:
    start = inc.parse_iso(item["start"])
    end = inc.parse_iso(item["end"]) if item["end"] else start + INCIDENT_MARGIN
    return [s for entity in item["entities"]
            for s in inc.signal_series(con, entity=entity, since=start - INCIDENT_MARGIN, until=end + INCIDENT_MARGIN)]
