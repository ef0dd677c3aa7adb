"""HTML pages: world map, country, measurement, incident, and report downloads.

Every value measured on a network is inserted by Jinja2 with autoescaping, and
the pages' scripts write data only with ``textContent`` or into charts: no
measured text ever becomes markup.  The blockpage is shown as escaped text.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from netvigil.store import countries, queries
from netvigil.api.context import Context, context, limit_reads
from netvigil.api.errors import ApiError
from netvigil.api.params import CC_PATTERN, DOMAIN_PATTERN, IncidentId, Since, Uid, Until
from netvigil.api.routes import country_overview, incident_with_signals
from netvigil.model.places import country_label
from netvigil.store import explorer, treaty
from netvigil.web import TEMPLATES_DIR, assets_built

router = APIRouter(include_in_schema=False, dependencies=[Depends(limit_reads)])
templates = Jinja2Templates(directory=TEMPLATES_DIR)
Ctx = Annotated[Context, Depends(context)]
REPORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,100}(\.[A-Za-z0-9_-]{1,20})*\.(html|pdf)$")
# A stored report may hold its own inline styles; it may run nothing and load nothing.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


def _pretty(value: Any) -> str:
    """Evidence values as compact JSON text (escaped by the template like everything else)."""
    return value if isinstance(value, str) else orjson.dumps(value, default=str).decode()


def _percent(share: float) -> str:
    return f"{share * 100:.1f}%"


templates.env.filters["pretty"] = _pretty
templates.env.filters["percent"] = _percent
templates.env.filters["whole_percent"] = lambda share: f"{round(share * 100)}%"
templates.env.filters["place"] = country_label
templates.env.tests["domain_name"] = lambda value: isinstance(value, str) and bool(re.match(DOMAIN_PATTERN, value))


def _page(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"assets": assets_built(), **values}, status_code=status)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, ctx: Ctx, at: Annotated[date | None, Query()] = None) -> HTMLResponse:
    with ctx.db.read() as con:
        states = countries.country_states(con, at)
    ranked = sorted(states["countries"], key=lambda c: (countries.STATES.index(c["state"]), -c["anomaly_share"]))
    votes = {v["probe_cc"]: v["vote"] for v in treaty.all_votes()}
    return _page(request, "index.html", states=states, ranked=ranked, votes=votes)


@router.get("/country/{cc}", response_class=HTMLResponse)
def country_page(request: Request, cc: Annotated[str, Path(pattern=CC_PATTERN)], ctx: Ctx,
                 since: Since = None, until: Until = None) -> HTMLResponse:
    with ctx.db.read() as con:
        overview = country_overview(con, cc, since, until)
        networks = explorer.country_networks(con, cc, since, until)
        techniques = explorer.country_techniques(con, cc, since, until)
    return _page(request, "country.html", c=overview, networks=networks, techniques=techniques,
                 legal=treaty.legal_context(cc), layers=explorer.LAYERS)


@router.get("/measurement/{uid}", response_class=HTMLResponse)
def measurement_page(request: Request, uid: Uid, ctx: Ctx) -> HTMLResponse:
    with ctx.db.read() as con:
        try:
            doc = queries.measurement(con, uid)
        except KeyError:
            return _page(request, "missing.html", 404, what="measurement", key=uid)
    return _page(request, "measurement.html", m=doc)


@router.get("/incident/{incident_id}", response_class=HTMLResponse)
def incident_page(request: Request, incident_id: IncidentId, ctx: Ctx) -> HTMLResponse:
    with ctx.db.read() as con:
        try:
            found = incident_with_signals(con, incident_id)
        except ApiError:
            return _page(request, "missing.html", 404, what="incident", key=incident_id)
    item = found["incident"]
    with ctx.db.read() as con:
        kind = explorer.incident_kinds(con).get((tuple(item["entities"]), item["start"]))
    return _page(request, "incident.html", i=item, window=found["window"], series=len(found["signals"]),
                 kind=kind, signal_names=sorted({s["source"] for s in found["signals"]}))


@router.get("/favicon.ico")
def favicon() -> Response:
    """No icon: an empty answer, so browsers do not log a 404 on every page."""
    return Response(status_code=204)


@router.get("/reports/{name}")
def report_file(name: str, ctx: Ctx) -> Response:
    """A report from ``--reports-dir``: a plain file name only, resolved inside that folder."""
    folder = ctx.settings.reports_dir
    if folder is None or not REPORT_NAME.match(name):
        raise ApiError(404, "not_found", "no such report")
    root = folder.resolve()
    path = (root / name).resolve()
    if path.parent != root or not path.is_file():
        raise ApiError(404, "not_found", "no such report")
    return FileResponse(path, headers={"Content-Security-Policy": REPORT_CSP})
