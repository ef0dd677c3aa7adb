"""A report's facts through a running ``netvigil serve``, for when that server holds the database.

DuckDB lets no other process open a file a server writes to, not even
read-only, so ``netvigil report`` asks the server instead:
``GET /api/v1/report-data`` answers the very :class:`ReportData` that
:func:`~netvigil.report.data.gather` reads from the file, and the report is
rendered locally from it (same HTML, same PDF).
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Query

from netvigil.api.context import Context, context, limit_reads
from netvigil.report.data import ReportData, gather

router = APIRouter(prefix="/api/v1", tags=["reports"], dependencies=[Depends(limit_reads)])
_TIMES = ("start", "end", "generated_at")
FETCH_TIMEOUT = 120.0


@router.get("/report-data", summary="Everything an evidence report states, for one country and period")
def report_data(ctx: Annotated[Context, Depends(context)],
                country: Annotated[str, Query(pattern=r"^[A-Z]{2}$")],
                since: Annotated[date, Query(alias="from")], until: Annotated[date, Query(alias="to")],
                legal_context: bool = False) -> dict[str, Any]:
    """``to`` is the last day included, as ``netvigil report --to`` takes it."""
    start = datetime.combine(since, datetime.min.time())
    end = datetime.combine(until + timedelta(days=1), datetime.min.time())
    with ctx.db.read() as con:
        return to_json(gather(con, country, start, end, legal_context=legal_context))


def to_json(data: ReportData) -> dict[str, Any]:
    obj = dataclasses.asdict(data)
    for name in _TIMES:
        obj[name] = obj[name].isoformat()
    return obj


def from_json(obj: dict[str, Any]) -> ReportData:
    values = dict(obj)
    for name in _TIMES:
        values[name] = datetime.fromisoformat(values[name])
    values["versions"] = [tuple(v) for v in values["versions"]]
    return ReportData(**values)


def fetch_report_data(url: str, cc: str, start: date, end: date, *, legal_context: bool) -> ReportData:
    """The report's facts from the server at ``url``; raises httpx.HTTPError when it cannot answer."""
    reply = httpx.get(f"{url}/api/v1/report-data", timeout=FETCH_TIMEOUT,
                      params={"country": cc, "from": start.isoformat(), "to": end.isoformat(),
                              "legal_context": str(legal_context).lower()})
    reply.raise_for_status()
    return from_json(reply.json())
