"""A report's facts through a running ``netvigil serve``, for when that server holds the database.

DuckDB lets no other process open a file a server writes to, not even
read-only, so ``netvigil report`` asks the server instead:
``GET /api/v1/report-data`` (:mod:`netvigil.web.report_data`) answers the very :class:`ReportData` that
:func:`~netvigil.report.data.gather` reads from the file, and the report is
rendered locally from it (same HTML, same PDF).
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

import httpx

from netvigil.report.data import ReportData

_TIMES = ("start", "end", "generated_at")
FETCH_TIMEOUT = 120.0


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
