"""Everything a report states, read from the store in one place.

Kept apart from rendering so that tests can check the facts (counts, citations)
without parsing HTML, and so that the HTML and PDF cannot disagree.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import pycountry

from netvigil.store import aggregation as agg
from netvigil.store import incidents as inc
from netvigil.store import queries
from netvigil.store.countries import country_name
from netvigil.store.reference_data import shared_data_dir

CITED_PER_GROUP = 3  # latest measurements cited for each blocked (domain, technique)
TREATY_CSV = ("treaty_context", "treaty_context.csv")


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
    legal: dict[str, str] | None = field(default=None)


def gather(con: duckdb.DuckDBPyConnection, cc: str, start: datetime, end: datetime, *,
           legal_context: bool = False) -> ReportData:
    def counts(axis: agg.Axis | None) -> list[dict[str, Any]]:
        return agg.aggregate(con, agg.AggregationQuery(axis_x=axis, probe_cc=cc, since=start.date(),
                                                       until=end.date()))

    flt = queries.MeasurementFilter(probe_cc=cc, since=start, until=end)
    return ReportData(
        cc=cc, name=country_name(cc), start=start, end=end, generated_at=datetime.now(UTC).replace(microsecond=0),
        totals=counts(None)[0], daily=counts(agg.Axis.DAY),
        techniques=sorted((r for r in counts(agg.Axis.TECHNIQUE) if r["anomaly_count"]),
                          key=lambda r: -r["anomaly_count"]),
        networks=sorted(counts(agg.Axis.ASN), key=lambda r: -r["measurement_count"]),
        blocked=queries.blocked_domains(con, flt, limit=500),
        cited=queries.cited_measurements(con, flt, per_group=CITED_PER_GROUP),
        incidents=inc.incidents(con, country=cc, overlapping=(start, end)),
        signals=inc.signal_series(con, entity=cc, include_children=False, since=start, until=end),
        versions=queries.verdict_versions(con, cc, start, end),
        legal=_treaty_row(cc) if legal_context else None,
    )


def _treaty_row(cc: str) -> dict[str, str] | None:
    """The country's row of the shared treaty-context table, when that table is present."""
    country = pycountry.countries.get(alpha_2=cc)
    path = shared_data_dir().joinpath(*TREATY_CSV)
    if country is None or not path.is_file():
        return None
    with path.open(newline="", encoding="utf-8") as handle:
        return next((row for row in csv.DictReader(handle) if row.get("iso3") == country.alpha_3), None)
