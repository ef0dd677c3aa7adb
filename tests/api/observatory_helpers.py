"""Shared by the api, web and report tests: a seeded store and real servers on loopback.

Servers bind 127.0.0.1 on a port the OS picks.  In-process servers run uvicorn
in a thread (fast to start); the durability test needs a separate process it
can SIGKILL, started with :func:`serve_command`.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson
import uvicorn

from netvigil.engine import pipeline
from netvigil.web.app import create_app
from netvigil.api.settings import Settings
from netvigil.detect.records import Incident, Level, SignalKind, SignalPoint
from netvigil.store.db import open_store
from netvigil.store.reference_data import load_default_fingerprints
from netvigil.store.signals_db import SignalsStore
from netvigil.store.sources import check_record
from netvigil.testbed.synthetic import generate

API_KEY = "test-key-0123456789abcdef"
OUTAGE_START = datetime(2026, 10, 14, 9, tzinfo=UTC)
OUTAGE_END = datetime(2026, 10, 17, 21, tzinfo=UTC)
# Each payload, if it ever ran, would set window.__xss; the tests check it stays undefined.
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
XSS_HOST = "<svg onload=window.__xss=3>.example"


def xss_measurement() -> dict[str, Any]:
    """A blocked IR measurement whose domain, title, headers and body are all script payloads."""
    base = next(g.measurement for g in generate(40, seed=7) if g.technique.value == "http.diff")
    host = base["input"].split("/")[2]
    base = orjson.loads(orjson.dumps(base).replace(host.encode(), XSS_HOST.encode()))
    base["probe_cc"], base["measurement_start_time"] = "IR", "2026-10-20 10:00:00"
    response = base["test_keys"]["requests"][0]["response"]
    response["body"] = f"<html><head><title>{XSS}</title></head><body>{XSS}</body></html>"
    response["headers"] = {"X-Evil": XSS, "Content-Type": "text/html"}
    return base


def seed(path: Path, *, count: int = 240, extra: tuple[dict[str, Any], ...] = ()) -> None:
    """Synthetic measurements (plus ``extra``), one IR signal with an outage, and its incident."""
    records = [check_record("seed", f"line {i}", orjson.dumps(g.measurement))
               for i, g in enumerate(generate(count, seed=1, max_body=4_000))]
    records += [check_record("seed-extra", f"line {i}", orjson.dumps(m)) for i, m in enumerate(extra)]
    with open_store(path) as store:
        summary = pipeline.ingest(store, records, load_default_fingerprints())
    assert summary.quarantined == 0, summary.by_reason
    start = datetime(2026, 10, 1, tzinfo=UTC)
    points = [SignalPoint(entity="IR", source="active-probing", kind=SignalKind.ACTIVE_PROBING,
                          time=start + timedelta(hours=h), value=4.0 if OUTAGE_START <= start + timedelta(hours=h)
                          < OUTAGE_END else 96.0) for h in range(28 * 24)]
    with SignalsStore(duckdb.connect(str(path))) as signals:
        signals.add_points(points)
        signals.replace_incidents([Incident(entities=("IR",), start=OUTAGE_START, end=OUTAGE_END,
                                            level=Level.CRITICAL, severity=4200.0, confidence=0.96,
                                            signals=("active-probing",), on_the_hour=True)])
    with duckdb.connect(str(path)) as con:  # as stored before detection assessed kinds (schema version < 5)
        con.execute("UPDATE incidents SET kind = NULL, kind_evidence = NULL, kind_score = NULL")


def settings(path: Path, **overrides: Any) -> Settings:
    return replace(Settings(db_path=path, api_keys=(API_KEY,)), **overrides)


@dataclass
class Running:
    url: str
    client: httpx.Client


@contextmanager
def running(config: Settings) -> Iterator[Running]:
    """``create_app(config)`` served by uvicorn in a thread on 127.0.0.1:<free port>."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(config), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url)
        with httpx.Client(base_url=url, timeout=30) as client:
            yield Running(url, client)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise TimeoutError(f"server at {url} did not become ready")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_command(db: Path, port: int) -> list[str]:
    """``netvigil serve`` as its own process (``python -m netvigil serve``)."""
    return [sys.executable, "-m", "netvigil", "serve", "--db", str(db), "--port", str(port),
            "--write-rate", "1000"]


def auth(content_type: str = "application/json") -> dict[str, str]:
    return {"Authorization": f"Bearer {API_KEY}", "Content-Type": content_type}
