"""Explorer pages: search, domain and network drill-downs.

The search page is a plain GET form: the address bar always holds the whole
query, so a search can be bookmarked or sent on, and the CSV and JSON links
download exactly the rows shown (all pages of them).  A malformed parameter is
shown as a notice on the page, never as a traceback or an empty result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse

from netvigil.api import explorer as api
from netvigil.api.context import Context, context, limit_reads
from netvigil.api.params import ASN_PATTERN, CC_PATTERN, DOMAIN_PATTERN, TEST_PATTERN
from netvigil.model.places import country_label
from netvigil.web.pages import _page

router = APIRouter(include_in_schema=False, dependencies=[Depends(limit_reads)])
Ctx = Annotated[Context, Depends(context)]
# (form field, label, pattern the value must match); a blank field means "any".
TEXT_FIELDS = (("probe_cc", "Country code", CC_PATTERN), ("probe_asn", "Network (ASN)", ASN_PATTERN),
               ("domain", "Domain", DOMAIN_PATTERN), ("test_name", "Test", TEST_PATTERN))
TECHNIQUE_CHOICES = (("dns", "any DNS technique"), ("tcp", "any TCP technique"), ("tls", "any TLS technique"),
                     ("http", "any HTTP technique"),
                     *((t, t) for t in api.TECHNIQUES if t not in ("dns", "tcp", "tls", "http")))
COLUMNS = (("time", "Time (UTC)"), ("country", "Country"), ("network", "Network"), ("domain", "Domain"),
           ("test", "Test"), ("outcome", "Result"), ("technique", "Technique"), ("confidence", "Confidence"))


@dataclass(frozen=True, slots=True)
class Form:
    values: dict[str, str]
    problems: list[str]
    filter: Any
    sort: api.Sort
    order: api.Order
    offset: int


def read_form(params: dict[str, str]) -> Form:
    """The search form's fields, checked one by one; bad ones are reported and ignored."""
    values = {k: v.strip() for k, v in params.items() if isinstance(v, str)}
    problems: list[str] = []
    chosen: dict[str, Any] = {}
    for name, label, pattern in TEXT_FIELDS:
        value = values.get(name, "")
        if name == "probe_cc":
            value = value.upper()
        if value and not re.match(pattern, value):
            problems.append(f"{label}: {value!r} is not valid")
        elif value:
            chosen[name] = value
    for name, allowed in (("outcome", api.OUTCOMES), ("technique", api.TECHNIQUES)):
        value = values.get(name, "")
        if value and value not in allowed:
            problems.append(f"{name}: {value!r} is not one of the choices")
        elif value:
            chosen[name] = value
    url = values.get("url", "")
    if len(url) > 2_000:
        problems.append("URL: longer than 2,000 characters")
    elif url:
        chosen["url"] = url
    for name, label in (("since", "From"), ("until", "To")):
        value = values.get(name, "")
        if value:
            try:
                day = datetime.fromisoformat(value)
            except ValueError:
                problems.append(f"{label}: {value!r} is not a date (YYYY-MM-DD)")
                continue
            # "To" is a last day included, as people read a date range.
            is_day = len(value) == 10
            chosen[name] = day + timedelta(days=1) if name == "until" and is_day else day
    sort = _choice(api.Sort, values.get("sort"), api.Sort.TIME, problems)
    order = _choice(api.Order, values.get("order"), api.Order.DESC, problems)
    offset = int(values["offset"]) if values.get("offset", "").isdigit() else 0
    return Form(values, problems, api.search_filter(**chosen), sort, order, min(offset, 10_000_000))


def _choice(enum: Any, value: str | None, default: Any, problems: list[str]) -> Any:
    if not value:
        return default
    try:
        return enum(value)
    except ValueError:
        problems.append(f"{value!r} is not a sort choice")
        return default


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, ctx: Ctx) -> HTMLResponse:
    form = read_form(dict(request.query_params))
    with ctx.db.read() as con:
        found = api.search_page(con, form.filter, sort=form.sort, order=form.order, limit=api.PAGE_SIZE,
                                offset=form.offset)
    kept = {k: v for k, v in form.values.items() if v and k not in ("sort", "order", "offset")}
    return _page(request, "search.html", form=form, found=found, kept=kept, columns=COLUMNS,
                 techniques=TECHNIQUE_CHOICES, outcomes=api.OUTCOMES, label=country_label,
                 searched=bool(kept))


@router.get("/domain/{domain}", response_class=HTMLResponse)
def domain_page(request: Request, domain: Annotated[str, Path(pattern=DOMAIN_PATTERN)], ctx: Ctx) -> HTMLResponse:
    with ctx.db.read() as con:
        found = api.domain_overview(con, domain)
    return _page(request, "domain.html", d=found, answer=domain_answer(found))


@router.get("/network/{asn}", response_class=HTMLResponse)
def network_page(request: Request, asn: Annotated[str, Path(pattern=ASN_PATTERN)], ctx: Ctx) -> HTMLResponse:
    with ctx.db.read() as con:
        found = api.network_overview(con, asn)
    return _page(request, "network.html", n=found)


def domain_answer(found: dict[str, Any]) -> str:
    """One sentence: where the domain is blocked and since when (or that it is not)."""
    if not found["measurements"]:
        return f"No measurement of {found['domain']} is held."
    blocked = [c for c in found["countries"] if c["blocked"]]
    if not blocked:
        return f"{found['domain']} was not found blocked in any of the {len(found['countries'])} countries measured."
    parts = [f"{c['country_name']} since {c['first_blocked'][:10]} ({c['blocking_networks']} network"
             f"{'s' if c['blocking_networks'] != 1 else ''}, {', '.join(c['techniques'])})" for c in blocked]
    return f"{found['domain']} was found blocked in {len(blocked)} countr{'ies' if len(blocked) > 1 else 'y'}: " \
           + "; ".join(parts) + "."
