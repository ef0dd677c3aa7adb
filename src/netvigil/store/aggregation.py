"""MAT-style aggregation: ok / anomaly / confirmed / failure counts along one or two axes.

Answered from the daily roll-up (:mod:`netvigil.store.rollup`, which defines the
counts), so time filters are whole days.  Axis names follow OONI's
``/api/v1/aggregation``; each maps to a fixed SQL expression.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

import duckdb

from netvigil.store.categories import CATEGORY_SQL, join_sql
from netvigil.store.rollup import COUNTS, TABLE


class Axis(StrEnum):
    DAY = "measurement_start_day"
    COUNTRY = "probe_cc"
    ASN = "probe_asn"
    DOMAIN = "domain"
    CATEGORY = "category_code"
    TEST = "test_name"
    TECHNIQUE = "technique"


class TimeGrain(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


_AXIS_SQL = {Axis.COUNTRY: "d.probe_cc", Axis.ASN: "d.probe_asn", Axis.DOMAIN: "d.domain",
             Axis.CATEGORY: CATEGORY_SQL, Axis.TEST: "d.test_name", Axis.TECHNIQUE: "d.technique"}
_GRAIN_SQL = {TimeGrain.DAY: "d.day", TimeGrain.WEEK: "CAST(date_trunc('week', d.day) AS DATE)",
              TimeGrain.MONTH: "CAST(date_trunc('month', d.day) AS DATE)"}


@dataclass(frozen=True, slots=True, kw_only=True)
class AggregationQuery:
    axis_x: Axis | None = None
    axis_y: Axis | None = None
    time_grain: TimeGrain = TimeGrain.DAY
    probe_cc: str | None = None
    probe_asn: str | None = None
    domain: str | None = None
    test_name: str | None = None
    category_code: str | None = None
    technique: str | None = None
    since: date | None = None
    until: date | None = None  # exclusive

    @property
    def axes(self) -> list[Axis]:
        return [a for a in (self.axis_x, self.axis_y) if a is not None]

    def axis_sql(self, axis: Axis) -> str:
        return _GRAIN_SQL[self.time_grain] if axis is Axis.DAY else _AXIS_SQL[axis]

    def where(self) -> tuple[str, list[Any]]:
        pairs = (("d.probe_cc = ?", self.probe_cc), ("d.probe_asn = ?", self.probe_asn),
                 ("d.domain = ?", self.domain), ("d.test_name = ?", self.test_name),
                 (f"{CATEGORY_SQL} = ?", self.category_code), ("d.technique = ?", self.technique),
                 ("d.day >= ?", self.since), ("d.day < ?", self.until))
        present = [(clause, value) for clause, value in pairs if value is not None]
        return " AND ".join(["TRUE", *(c for c, _ in present)]), [v for _, v in present]


def aggregate(con: duckdb.DuckDBPyConnection, q: AggregationQuery) -> list[dict[str, Any]]:
    """One row per combination of axis values (or one row in all), sorted by the axes."""
    if q.axis_x is not None and q.axis_x == q.axis_y:
        raise ValueError("axis_x and axis_y must differ")
    where, params = q.where()
    selected = [f"{q.axis_sql(a)} AS {a.value}" for a in q.axes]
    sums = [f"CAST(coalesce(sum(d.{c}), 0) AS BIGINT) AS {c}" for c in COUNTS]
    group = f" GROUP BY {', '.join(str(i + 1) for i in range(len(selected)))} ORDER BY ALL" if selected else ""
    sql = f"SELECT {', '.join(selected + sums)} FROM {TABLE} d {join_sql('d.domain')} WHERE {where}{group}"
    cursor = con.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [{n: (v.isoformat() if isinstance(v, date) else v) for n, v in zip(names, row, strict=True)}
            for row in cursor.fetchall()]


def to_csv(rows: list[dict[str, Any]], q: AggregationQuery) -> str:
    columns = [a.value for a in q.axes] + list(COUNTS)
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: _csv_safe(row[c]) for c in columns} for row in rows)
    return out.getvalue()


def _csv_safe(value: Any) -> Any:
    """Keep a spreadsheet from running a domain that starts like a formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
