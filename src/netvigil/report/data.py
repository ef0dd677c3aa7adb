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

from netvigil.api import aggregation as agg
from netvigil.api import incidents as inc
from netvigil.api import queries
from netvigil.api.countries import country_name
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
        versions=_versions(con, cc, start, end),
        legal=_treaty_row(cc) if legal_context else None,
    )


def _versions(con: duckdb.DuckDBPyConnection, cc: str, start: datetime, end: datetime) -> list[tuple[str, str]]:
    """Rules and fingerprint versions that produced the verdicts cited (for reproducibility)."""
    sql = ("SELECT DISTINCT v.rules_version, v.fingerprints_version FROM verdicts v JOIN measurements m "
           "ON m.uid = v.uid WHERE v.is_summary AND m.probe_cc = ? AND m.measurement_start_time >= ? "
           "AND m.measurement_start_time < ? ORDER BY ALL")
    return [(r, f) for r, f in con.execute(sql, [cc, start, end]).fetchall()]


def _treaty_row(cc: str) -> dict[str, str] | None:
    """The country's row of the shared treaty-context table, when that table is present."""
    country = pycountry.countries.get(alpha_2=cc)
    path = shared_data_dir().joinpath(*TREATY_CSV)
    if country is None or not path.is_file():
        return None
    with path.open(newline="", encoding="utf-8") as handle:
        return next((row for row in csv.DictReader(handle) if row.get("iso3") == country.alpha_3), None)
