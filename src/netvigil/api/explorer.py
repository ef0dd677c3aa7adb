"""The explorer's read API: search, domain and network drill-downs, country series, legal context.

Queries live in :mod:`netvigil.store.explorer` and :mod:`netvigil.store.treaty`;
this module validates parameters and shapes answers.  The search answer carries
its own links (next page, CSV and JSON downloads of the same query), so that a
filter is always a URL someone can send to a colleague.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlencode

import duckdb
import orjson
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from netvigil.api.context import Context, context, limit_reads
from netvigil.api.errors import ApiError
from netvigil.store.incidents import naive
from netvigil.api.params import (
    ASN_PATTERN,
    CC_PATTERN,
    DOMAIN_PATTERN,
    Asn,
    Country,
    Domain,
    Format,
    Since,
    TestName,
    Until,
)
from netvigil.model.places import country_label
from netvigil.model.verdict import Outcome, Technique
from netvigil.store import explorer, treaty

router = APIRouter(prefix="/api/v1", tags=["explorer"], dependencies=[Depends(limit_reads)])
Ctx = Annotated[Context, Depends(context)]
PAGE_SIZE = 50
MAX_PAGE = 500
DOWNLOAD_CAP = 100_000
# "tampered": DNS or HTTP tampering short of blocking (OONI's middlebox tests and hijacked answers).
OUTCOMES = tuple(dict.fromkeys((*(o.value for o in Outcome), "tampered", explorer.UNANALYSED)))
TECHNIQUES = (*(t.value for t in Technique), *explorer.LAYERS, explorer.UNANALYSED)
DOWNLOAD_COLUMNS = explorer.COLUMNS


class Sort(StrEnum):
    TIME = "time"
    COUNTRY = "country"
    NETWORK = "network"
    DOMAIN = "domain"
    TEST = "test"
    OUTCOME = "outcome"
    TECHNIQUE = "technique"
    CONFIDENCE = "confidence"


class Order(StrEnum):
    DESC = "desc"
    ASC = "asc"


SearchOutcome = Annotated[str | None, Query(description=f"summary outcome: {', '.join(OUTCOMES)}")]
SearchTechnique = Annotated[str | None, Query(max_length=32,
                                              description="a technique (dns.bogon) or a whole layer (dns, tcp, tls, http)")]
Url = Annotated[str | None, Query(max_length=2_000, description="input URL, or the start of it")]


def search_filter(probe_cc: str | None = None, probe_asn: str | None = None, domain: str | None = None,
                  url: str | None = None, test_name: str | None = None, outcome: str | None = None,
                  technique: str | None = None, since: datetime | None = None,
                  until: datetime | None = None) -> explorer.SearchFilter:
    """A validated filter (422 for an outcome or technique that does not exist)."""
    if outcome is not None and outcome not in OUTCOMES:
        raise ApiError(422, "invalid_parameter", f"outcome must be one of {', '.join(OUTCOMES)}")
    if technique is not None and technique not in TECHNIQUES:
        raise ApiError(422, "invalid_parameter", "technique must be a known technique or a layer (dns, tcp, tls, http)")
    return explorer.SearchFilter(probe_cc=probe_cc, probe_asn=probe_asn, domain=domain, url=url or None,
                                 test_name=test_name, outcome=outcome, technique=technique,
                                 since=_naive(since), until=_naive(until))


def search_page(con: duckdb.DuckDBPyConnection, flt: explorer.SearchFilter, *, sort: Sort, order: Order,
                limit: int, offset: int) -> dict[str, Any]:
    """Shared by the API route and the search page."""
    found = explorer.search(con, flt, sort=sort.value, descending=order is Order.DESC, limit=limit, offset=offset)
    query = {**flt.as_query(), "sort": sort.value, "order": order.value}

    def link(path: str, **extra: Any) -> str:
        return f"{path}?{urlencode({**query, **extra})}"

    more = offset + limit < found.total
    return {"metadata": {"total": found.total, "count": len(found.rows), "limit": limit, "offset": offset,
                         "sort": sort.value, "order": order.value, "filter": flt.as_query(),
                         "next_url": link("/api/v1/search", limit=limit, offset=offset + limit) if more else None,
                         "previous_url": (link("/api/v1/search", limit=limit, offset=max(0, offset - limit))
                                          if offset else None),
                         "csv_url": link("/api/v1/search/download", format="CSV"),
                         "json_url": link("/api/v1/search/download", format="JSON"),
                         "page_url": link("/search")},
            "results": found.rows}


@router.get("/search", summary="Search measurements: filter, sort and page (the URL holds the query)")
def search(ctx: Ctx, probe_cc: Country = None, probe_asn: Asn = None, domain: Domain = None, url: Url = None,
           test_name: TestName = None, outcome: SearchOutcome = None, technique: SearchTechnique = None,
           since: Since = None, until: Until = None, sort: Sort = Sort.TIME, order: Order = Order.DESC,
           limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = PAGE_SIZE,
           offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> dict[str, Any]:
    flt = search_filter(probe_cc, probe_asn, domain, url, test_name, outcome, technique, since, until)
    with ctx.db.read() as con:
        return search_page(con, flt, sort=sort, order=order, limit=limit, offset=offset)


@router.get("/search/download", summary=f"The same search as CSV or JSON, up to {DOWNLOAD_CAP:,} rows",
            response_class=Response, responses={200: {"content": {"text/csv": {}, "application/json": {}}}})
def download(ctx: Ctx, probe_cc: Country = None, probe_asn: Asn = None, domain: Domain = None, url: Url = None,
             test_name: TestName = None, outcome: SearchOutcome = None, technique: SearchTechnique = None,
             since: Since = None, until: Until = None, sort: Sort = Sort.TIME, order: Order = Order.DESC,
             format: Format = Format.CSV) -> Response:
    flt = search_filter(probe_cc, probe_asn, domain, url, test_name, outcome, technique, since, until)
    with ctx.db.read() as con:
        rows = list(explorer.search_rows(con, flt, sort=sort.value, descending=order is Order.DESC,
                                         cap=DOWNLOAD_CAP))
    if format is Format.CSV:
        return Response(to_csv(rows), media_type="text/csv",
                        headers={"Content-Disposition": "attachment; filename=netvigil-search.csv"})
    body = orjson.dumps({"filter": flt.as_query(), "sort": sort.value, "order": order.value, "count": len(rows),
                         "capped": len(rows) == DOWNLOAD_CAP, "results": rows})
    return Response(body, media_type="application/json",
                    headers={"Content-Disposition": "attachment; filename=netvigil-search.json"})


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, DOWNLOAD_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: _csv_safe(row[c]) for c in DOWNLOAD_COLUMNS} for row in rows)
    return out.getvalue()


def _csv_safe(value: Any) -> Any:
    """Keep a spreadsheet from running a measured value that starts like a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@router.get("/domains/{domain}", summary="One domain: where it is blocked, how, since when, per country and network")
def domain(domain: Annotated[str, Path(pattern=DOMAIN_PATTERN)], ctx: Ctx) -> dict[str, Any]:
    with ctx.db.read() as con:
        return domain_overview(con, domain)


def domain_overview(con: duckdb.DuckDBPyConnection, domain: str) -> dict[str, Any]:
    found = explorer.domain_overview(con, domain)
    for row in found["countries"] + found["networks"]:
        row["country_name"] = country_label(row["probe_cc"])
    return found


@router.get("/networks/{asn}", summary="One network (ASN): its countries, what it blocks and how")
def network(asn: Annotated[str, Path(pattern=ASN_PATTERN)], ctx: Ctx) -> dict[str, Any]:
    with ctx.db.read() as con:
        return network_overview(con, asn)


def network_overview(con: duckdb.DuckDBPyConnection, asn: str) -> dict[str, Any]:
    found = explorer.network_overview(con, asn)
    for row in found["countries"]:
        row["country_name"] = country_label(row["probe_cc"])
    return found


@router.get("/countries/{cc}/series", summary="Per day: counts by outcome and blocked counts by technique")
def country_series(cc: Annotated[str, Path(pattern=CC_PATTERN)], ctx: Ctx, since: Since = None,
                   until: Until = None) -> dict[str, Any]:
    with ctx.db.read() as con:
        return explorer.country_series(con, cc, _naive(since), _naive(until))


@router.get("/countries/{cc}/networks", summary="Each network of a country and the layers it blocks at")
def country_networks(cc: Annotated[str, Path(pattern=CC_PATTERN)], ctx: Ctx, since: Since = None,
                     until: Until = None) -> dict[str, Any]:
    with ctx.db.read() as con:
        return {"probe_cc": cc, "results": explorer.country_networks(con, cc, _naive(since), _naive(until))}


@router.get("/countries/{cc}/hourly", summary="netvigil's own measurements of a country per hour, and how many blocked")
def country_hourly(cc: Annotated[str, Path(pattern=CC_PATTERN)], ctx: Ctx, since: Annotated[datetime, Query()],
                   until: Annotated[datetime, Query()]) -> dict[str, Any]:
    """A signal beside the connectivity ones: during a shutdown, probes cannot report."""
    with ctx.db.read() as con:
        return {"probe_cc": cc, "results": explorer.hourly_rates(con, cc, naive(since), naive(until))}


@router.get("/legal", summary="Every state's vote on A/RES/74/247 (27 Dec 2019), for the world map")
def votes() -> dict[str, Any]:
    return {"resolution": treaty.RESOLUTION, "results": treaty.all_votes()}


@router.get("/legal/{cc}", summary="A country's legal context: 2019 UN vote, Budapest Convention, 2024 UN convention")
def legal(cc: Annotated[str, Path(pattern=CC_PATTERN)]) -> dict[str, Any]:
    return treaty.legal_context(cc).to_dict()


def _naive(t: datetime | None) -> datetime | None:
    return None if t is None else naive(t)
