"""The site: collector, read API and dashboard over one store, in one process.

It lives in web/ because it assembles the API's routers with the dashboard's pages:
web/ imports api/, never the other way round.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

import netvigil
from netvigil.api import collector, explorer, routes, transparency
from netvigil.api.context import Context
from netvigil.api.errors import install_error_handlers
from netvigil.api.guard import ApiKeys, RateLimiter
from netvigil.api.settings import Settings
from netvigil.store.database import Database, open_database
from netvigil.store.reference_data import load_default_fingerprints
from netvigil.web import STATIC_DIR, explorer_pages, pages, report_data

log = logging.getLogger("netvigil.api")
# Scripts and styles only from this server: even if some measured text slipped through
# escaping, the browser would refuse to run it.  No frames, no plugins, no base rewriting.
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def create_app(settings: Settings, *, database: Database | None = None) -> FastAPI:
    """An app that opens the store at start-up (unless given ``database``, opened by the caller
    to report a held file clearly) and closes it at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = database or open_database(settings.db_path, test_lists=settings.test_lists)
        app.state.ctx = Context(
            settings=settings, db=db, fingerprints=load_default_fingerprints(settings.fingerprints_dir),
            keys=ApiKeys(settings.api_keys),
            writes=RateLimiter(settings.write_rate, settings.write_burst, what="submissions"),
            reads=RateLimiter(settings.read_rate, settings.read_burst, what="requests"))
        app.state.transparency = transparency.open_transparency(db, settings)
        log.info("serving %s", settings.db_path)
        try:
            yield
        finally:
            db.close()

    # No /docs or /redoc: FastAPI's pages load Swagger UI from a CDN, and the dashboard is offline.
    app = FastAPI(title="netvigil", version=netvigil.__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Censorship and shutdown measurements: collector, query API and dashboard.")
    install_error_handlers(app)
    app.include_router(collector.router)
    app.include_router(routes.router)
    app.include_router(explorer.router)
    app.include_router(transparency.router)
    app.include_router(pages.router)
    app.include_router(explorer_pages.router)
    app.include_router(report_data.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)  # a route may set a stricter or looser one
        return response

    return app
