"""``GET /api/v1/report-data``: a report's facts, for ``netvigil report`` while this server holds the file.

It sits in web/, the site's assembly, because it joins the API's request context
with the report's facts; the client side is :mod:`netvigil.report.remote`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from netvigil.api.context import Context, context, limit_reads
from netvigil.report.data import gather
from netvigil.report.remote import to_json

router = APIRouter(prefix="/api/v1", tags=["reports"], dependencies=[Depends(limit_reads)])


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
