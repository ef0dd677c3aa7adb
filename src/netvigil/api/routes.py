"""The read API: ``/api/v1/...`` routes over measurements, aggregations, countries, incidents, signals.

Handlers are plain functions run in the thread pool, each on its own cursor.
Parameter names follow OONI's API where one exists (``probe_cc``, ``since``, ...).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import duckdb
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response

from netvigil.store import aggregation as agg
from netvigil.store import countries, incidents, queries
from netvigil.api.context import Context, context, limit_reads
from netvigil.api.errors import ApiError
from netvigil.api.params import (
    CC_PATTERN,
    ENTITY_PATTERN,
    Asn,
    Category,
    Country,
    Domain,
    Format,
    IncidentId,
    Limit,
    Offset,
    OutcomeParam,
    Since,
    TechniqueParam,
    TestName,
    Uid,
    Until,
    day_bounds,
)

router = APIRouter(prefix="/api/v1", tags=["query"], dependencies=[Depends(limit_reads)])
Ctx = Annotated[Context, Depends(context)]


@router.get("/health", summary="Liveness and store size")
def health(ctx: Ctx) -> dict[str, Any]:
    with ctx.db.read() as con:
        held = queries.measurement_count(con)
    return {"status": "ok", "measurements": held, "collector": ctx.keys.configured}


@router.get("/measurements", summary="List measurements, newest first")
def list_measurements(request: Request, ctx: Ctx, probe_cc: Country = None, probe_asn: Asn = None,
                      domain: Domain = None, test_name: TestName = None, since: Since = None, until: Until = None,
                      technique: TechniqueParam = None, outcome: OutcomeParam = None, category_code: Category = None,
                      limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
    flt = queries.MeasurementFilter(probe_cc=probe_cc, probe_asn=probe_asn, domain=domain, test_name=test_name,
                                    since=since, until=until, technique=technique, outcome=outcome,
                                    category_code=category_code)
    with ctx.db.read() as con:
        rows, more = queries.list_measurements(con, flt, limit=limit, offset=offset)
    following = urlencode({**flt.as_query(), "limit": limit, "offset": offset + limit})
    return {"metadata": {"count": len(rows), "limit": limit, "offset": offset,
                         "next_url": f"{request.url.path}?{following}" if more else None},
            "results": rows}


@router.get("/measurements/{uid}", summary="One measurement: verdicts, evidence, control, SHA-256")
def get_measurement(uid: Uid, ctx: Ctx) -> dict[str, Any]:
    with ctx.db.read() as con:
        try:
            return queries.measurement(con, uid)
        except KeyError:
            raise _no_measurement(uid) from None


@router.get("/measurements/{uid}/raw", summary="The exact bytes received (their SHA-256 is the cited one)",
            response_class=Response, responses={200: {"content": {"application/json": {}}}})
def get_raw(uid: Uid, ctx: Ctx) -> Response:
    with ctx.db.read() as con:
        try:
            raw = queries.raw_measurement(con, uid)
        except KeyError:
            raise _no_measurement(uid) from None
    return Response(raw, media_type="application/json",
                    headers={"Content-Disposition": "attachment; filename=measurement.json"})


@router.get("/aggregation", summary="ok / anomaly / confirmed / failure counts along up to two axes",
            responses={200: {"content": {"application/json": {}, "text/csv": {}}}})
def aggregation(ctx: Ctx, axis_x: agg.Axis | None = None, axis_y: agg.Axis | None = None,
                time_grain: agg.TimeGrain = agg.TimeGrain.DAY, probe_cc: Country = None, probe_asn: Asn = None,
                domain: Domain = None, test_name: TestName = None, category_code: Category = None,
                technique: TechniqueParam = None, since: Annotated[date | None, Query()] = None,
                until: Annotated[date | None, Query(description="exclusive")] = None,
                format: Format = Format.JSON) -> Any:
    """Counts: ``anomaly`` = summary blocked (includes ``confirmed``), ``confirmed`` = blocked with
    confidence 1.0, ``failure`` = down, unknown or unanalysed, ``ok`` = ok; ok + anomaly + failure =
    measurement_count.  ``since``/``until`` are days (``until`` exclusive)."""
    if axis_x is not None and axis_x == axis_y:
        raise ApiError(422, "invalid_parameter", "axis_x and axis_y must differ")
    start, end = day_bounds(since, until)
    q = agg.AggregationQuery(axis_x=axis_x, axis_y=axis_y, time_grain=time_grain, probe_cc=probe_cc,
                             probe_asn=probe_asn, domain=domain, test_name=test_name, category_code=category_code,
                             technique=technique, since=start, until=end)
    with ctx.db.read() as con:
        rows = agg.aggregate(con, q)
    if format is Format.CSV:
        return PlainTextResponse(agg.to_csv(rows, q), media_type="text/csv")
    return {"dimension_count": len(q.axes), "axis_x": axis_x, "axis_y": axis_y, "result": rows}


@router.get("/countries", summary="Each country's recent censorship and outage state")
def country_states(ctx: Ctx, at: Annotated[date | None, Query(description="last day of the window")] = None
                   ) -> dict[str, Any]:
    with ctx.db.read() as con:
        return countries.country_states(con, at)


@router.get("/countries/{cc}", summary="One country: blocked domains by technique and its incidents")
def country(cc: Annotated[str, Path(pattern=CC_PATTERN)], ctx: Ctx, since: Since = None,
            until: Until = None) -> dict[str, Any]:
    with ctx.db.read() as con:
        return country_overview(con, cc, since, until)


def country_overview(con: duckdb.DuckDBPyConnection, cc: str, since: datetime | None,
                     until: datetime | None) -> dict[str, Any]:
    """Shared by the API route and the country page."""
    flt = queries.MeasurementFilter(probe_cc=cc, since=since, until=until)
    totals = agg.aggregate(con, agg.AggregationQuery(probe_cc=cc, since=since and since.date(),
                                                     until=until and until.date()))[0]
    return {"probe_cc": cc, "name": countries.country_name(cc), "totals": totals,
            "blocked_domains": queries.blocked_domains(con, flt), "incidents": incidents.incidents(con, country=cc)}


@router.get("/incidents", summary="Detected outages and blocking incidents")
def list_incidents(ctx: Ctx, country: Country = None) -> dict[str, Any]:
    with ctx.db.read() as con:
        return {"results": incidents.incidents(con, country=country)}


@router.get("/incidents/{incident_id}", summary="One incident with the signals around it")
def get_incident(incident_id: IncidentId, ctx: Ctx) -> dict[str, Any]:
    with ctx.db.read() as con:
        return incident_with_signals(con, incident_id)


def incident_with_signals(con: duckdb.DuckDBPyConnection, incident_id: str) -> dict[str, Any]:
    """Shared by the API route and the incident page."""
    try:
        item = incidents.incident(con, incident_id)
    except KeyError:
        raise ApiError(404, "not_found", "no incident with this id") from None
    lo, hi = incidents.window_around(item)
    series = [s for entity in item["entities"]
              for s in incidents.signal_series(con, entity=entity, since=lo, until=hi)]
    return {"incident": item, "window": {"from": incidents.iso(lo), "to": incidents.iso(hi)}, "signals": series}


@router.get("/signals", summary="Signal points of an entity (country, region or network)")
def signals(ctx: Ctx, entity: Annotated[str, Query(pattern=ENTITY_PATTERN, description="e.g. IR or IR/Tehran")],
            include_children: bool = False,
            source: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._:-]{1,64}$")] = None,
            since: Since = None, until: Until = None) -> dict[str, Any]:
    with ctx.db.read() as con:
        return {"results": incidents.signal_series(con, entity=entity, include_children=include_children,
                                                   source=source, since=since, until=until)}


def _no_measurement(uid: str) -> ApiError:
    return ApiError(404, "not_found", "no stored measurement with this uid")
