"""``netvigil serve`` and ``netvigil report``: argument parsing only.

Both accept ``--db`` after the command name too (the main CLI's global option
otherwise), and default to the store the other commands use.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from netvigil.api import settings as defaults
from netvigil.api.holder import announce, describe, holder, withdraw
from netvigil.api.timeouts import BODY_TIMEOUT, HEADER_TIMEOUT, timed_protocol
from netvigil.store.db import StoreError, default_db_path
from netvigil.store.reference_data import shared_data_dir

TEST_LISTS_SUBDIR = Path("citizenlab-test-lists") / "lists"


def add_serve_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("serve", help="Serve the collector, query API and dashboard.",
                              description="Serve the collector (POST /api/v1/measurements), the query API "
                                          "(/api/v1, OpenAPI document at /openapi.json) and the dashboard (/) over one store. "
                                          f"Collector keys: ${defaults.API_KEYS_ENV} (comma-separated) or "
                                          "--api-key-file.")
    _db_option(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--api-key-file", type=Path, metavar="FILE", help="collector API keys, one a line")
    p.add_argument("--test-lists", type=Path, metavar="DIR",
                   help="Citizen Lab 'lists/' folder for domain categories (default: the shared data copy)")
    p.add_argument("--reports-dir", type=Path, metavar="DIR", help="serve reports written there at /reports/NAME")
    p.add_argument("--max-body-bytes", type=int, default=defaults.MAX_BODY_BYTES)
    p.add_argument("--max-batch", type=int, default=defaults.MAX_BATCH_RECORDS, help="records per JSONL batch")
    p.add_argument("--write-rate", type=float, default=defaults.WRITE_RATE,
                   help="collector requests per second and key (bursts of 3x)")
    p.add_argument("--read-rate", type=float, default=defaults.READ_RATE,
                   help="read requests per second and client address (bursts of 8x)")
    p.add_argument("--header-timeout", type=float, default=HEADER_TIMEOUT, metavar="SECONDS",
                   help=f"close a connection whose request headers take longer (default {HEADER_TIMEOUT:g})")
    p.add_argument("--body-timeout", type=float, default=BODY_TIMEOUT, metavar="SECONDS",
                   help=f"close a connection whose request body takes longer (default {BODY_TIMEOUT:g})")
    p.set_defaults(func=run_serve)
    return p


def add_report_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("report", help="Write an evidence report (HTML and PDF) for one country.",
                              description="Write an evidence report for one country and period: summary, charts, "
                                          "blocked sites with evidence, incidents, method and limitations, and "
                                          "the uid and SHA-256 of every cited measurement.")
    _db_option(p)
    p.add_argument("--country", required=True, type=_country, help="ISO 3166-1 alpha-2 code, e.g. IR")
    p.add_argument("--from", dest="start", required=True, type=date.fromisoformat, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, type=date.fromisoformat, metavar="YYYY-MM-DD",
                   help="last day included")
    p.add_argument("--output", type=Path, default=Path("out/reports"), metavar="DIR")
    p.add_argument("--no-pdf", action="store_true", help="write the HTML only")
    p.add_argument("--legal-context", action="store_true",
                   help="kept for old scripts: every report now states the country's treaty positions "
                        "(from $NETVIGIL_SHARED_DATA/treaty_context, 'unknown' where absent)")
    p.set_defaults(func=run_report)
    return p


def _db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, default=argparse.SUPPRESS,
                   help="database file (default $NETVIGIL_DB, else the XDG data path)")


def _country(text: str) -> str:
    if len(text) != 2 or not text.isalpha():
        raise argparse.ArgumentTypeError(f"{text!r} is not a two-letter country code")
    return text.upper()


def _db_path(args: argparse.Namespace) -> Path:
    return getattr(args, "db", None) or default_db_path()


def _default_test_lists() -> Path | None:
    folder = shared_data_dir() / TEST_LISTS_SUBDIR
    return folder if folder.is_dir() else None


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from netvigil.store.database import open_database
    from netvigil.web.app import create_app

    try:
        keys = defaults.load_api_keys(args.api_key_file)
    except (OSError, ValueError) as exc:
        print(f"netvigil serve: {exc}", file=sys.stderr)
        return 2
    settings = defaults.Settings(
        db_path=_db_path(args), api_keys=keys, fingerprints_dir=getattr(args, "fingerprints", None),
        test_lists=args.test_lists or _default_test_lists(), reports_dir=args.reports_dir,
        max_body_bytes=args.max_body_bytes, max_batch_records=args.max_batch,
        write_rate=args.write_rate, write_burst=max(1, int(args.write_rate * 3)),
        read_rate=args.read_rate, read_burst=max(1, int(args.read_rate * 8)))
    try:  # before uvicorn: a database held by another process is one line, not two tracebacks
        db = open_database(settings.db_path, test_lists=settings.test_lists)
    except StoreError as exc:
        print(f"netvigil serve: {_store_problem(settings.db_path, exc)}", file=sys.stderr)
        return 1
    try:
        sock = _listen(args.host, args.port)
    except OSError as exc:
        db.close()
        print(f"netvigil serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not keys:
        logging.getLogger("netvigil.api").warning("no API key configured: the collector refuses submissions")
    app = create_app(settings, database=db)
    _withdraw_at_shutdown(app, settings.db_path)
    config = uvicorn.Config(app, log_level="info", timeout_graceful_shutdown=5,
                            http=timed_protocol(header_timeout=args.header_timeout, body_timeout=args.body_timeout))
    port = sock.getsockname()[1]
    announce(settings.db_path, f"http://{f'[{args.host}]' if ':' in args.host else args.host}:{port}")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        withdraw(settings.db_path)
        sock.close()
    return 0


def _withdraw_at_shutdown(app: Any, db_path: Path) -> None:
    """Remove the address file when the app shuts down: uvicorn re-raises SIGTERM after its
    shutdown, so code after ``run()`` never runs then."""
    from contextlib import asynccontextmanager

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any):  # type: ignore[no-untyped-def]
        try:
            async with inner(application) as state:
                yield state
        finally:
            withdraw(db_path)

    app.router.lifespan_context = lifespan


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _store_problem(db_path: Path, exc: StoreError) -> str:
    """One line: who holds the file (from DuckDB's lock error), else the store's own message."""
    who = holder(db_path, str(exc))
    if who is not None:
        return f"{describe(db_path, who)}; stop it first, or use another --db"
    return " ".join(str(exc).split())


def run_report(args: argparse.Namespace) -> int:
    from netvigil.report.build import write_report
    from netvigil.store.database import open_database

    if args.end < args.start:
        print("netvigil report: --to is before --from", file=sys.stderr)
        return 2
    try:
        db = open_database(_db_path(args))
    except StoreError as exc:
        return _report_through_serve(args, exc)
    try:
        until = datetime.combine(args.end + timedelta(days=1), datetime.min.time())
        written = write_report(db, args.country, datetime.combine(args.start, datetime.min.time()), until,
                               args.output, pdf=not args.no_pdf)
    finally:
        db.close()
    for path in written:
        print(path)
    return 0


def _report_through_serve(args: argparse.Namespace, exc: StoreError) -> int:
    """The database is held: ask the ``serve`` holding it, or say in one line who holds it."""
    import httpx

    from netvigil.report.build import write_report_data
    from netvigil.report.remote import fetch_report_data

    path = _db_path(args)
    who = holder(path, str(exc))
    if who is None or who.url is None:
        problem = f"{describe(path, who)}; stop it first" if who is not None else " ".join(str(exc).split())
        print(f"netvigil report: {problem}", file=sys.stderr)
        return 1
    print(f"netvigil report: {describe(path, who)}; reading through the API", file=sys.stderr)
    try:
        data = fetch_report_data(who.url, args.country, args.start, args.end, legal_context=args.legal_context)
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
        print(f"netvigil report: the server at {who.url} did not give the report's data: {error}", file=sys.stderr)
        return 1
    for written in write_report_data(data, args.output, pdf=not args.no_pdf):
        print(written)
    return 0
