"""API benchmarks: collector throughput and latency on loopback, and aggregation over 10M verdict rows.

1. Collector: ``netvigil serve`` in its own process on 127.0.0.1; a fixed number of
   synthetic measurements posted by CLIENTS threads, one per request and then in
   batches of BATCH, within a fixed time cap.  Prints measurements/s and the p50 / p99
   request latency (each request answers only after its records are committed).
2. Aggregation: 2.5 million measurements and 10 million verdict rows (one summary and
   three layer verdicts each) generated straight into a store file with SQL, the
   roll-up built, then MAT-style queries timed (best of 3), beside the same
   aggregation by a direct join of the raw tables.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson

from netvigil.store.aggregation import AggregationQuery, Axis, aggregate
from netvigil.store.database import open_database
from netvigil.store.rollup import SOURCE_SQL
from netvigil.store.db import open_store
from netvigil.testbed.synthetic import generate

KEY = "bench-key-0123456789abcdef"
SINGLE, BATCHED, BATCH, CLIENTS = 400, 4_000, 100, 4
TIME_CAP = 120.0
MEASUREMENTS, LAYER_VERDICTS = 2_500_000, 3
TARGET_SECONDS = 1.0


def collector(folder: Path) -> None:
    port = 18_000 + os.getpid() % 1_000
    env = dict(os.environ, NETVIGIL_API_KEYS=KEY)
    cmd = [sys.executable, "-m", "netvigil", "serve", "--db", str(folder / "collector.duckdb"),
           "--port", str(port), "--write-rate", "100000"]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url)
        lines = [orjson.dumps(g.measurement) for g in generate(SINGLE + BATCHED, seed=42)]
        _load(url, "one per request", [(line, "application/json") for line in lines[:SINGLE]], 1)
        batches = [b"\n".join(lines[i:i + BATCH]) for i in range(SINGLE, SINGLE + BATCHED, BATCH)]
        _load(url, f"batches of {BATCH}", [(b, "application/x-ndjson") for b in batches], BATCH)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/api/v1/health", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError(url)


def _load(url: str, label: str, bodies: list[tuple[bytes, str]], per_request: int) -> None:
    latencies: list[float] = []
    lock, queue = threading.Lock(), list(reversed(bodies))
    deadline = time.monotonic() + TIME_CAP

    def client() -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            while time.monotonic() < deadline:
                with lock:
                    if not queue:
                        return
                    body, media = queue.pop()
                t0 = time.perf_counter()
                reply = http.post("/api/v1/measurements", content=body,
                                  headers={"Authorization": f"Bearer {KEY}", "Content-Type": media})
                reply.raise_for_status()
                with lock:
                    latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    done = len(latencies) * per_request
    print(f"collector, {label}: {done:,} measurements in {elapsed:.1f} s = {done / elapsed:,.0f} measurements/s; "
          f"request latency p50 {_ms(latencies, 0.50)} ms, p99 {_ms(latencies, 0.99)} ms ({CLIENTS} clients)")


def _ms(sorted_values: list[float], q: float) -> str:
    return f"{sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))] * 1000:.0f}"


def aggregation(folder: Path) -> None:
    path = folder / "ten-million.duckdb"
    open_store(path).close()
    t0 = time.perf_counter()
    _generate(path)
    print(f"generated {MEASUREMENTS:,} measurements and {MEASUREMENTS * (1 + LAYER_VERDICTS):,} verdict rows "
          f"in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    db = open_database(path)
    print(f"roll-up built at start-up in {time.perf_counter() - t0:.1f} s")
    try:
        with db.read() as con:
            verdicts = con.execute("SELECT count(*) FROM verdicts").fetchall()[0][0]
            print(f"verdict rows: {verdicts:,}")
            queries: dict[str, Callable[[], object]] = {
                "by day, all countries": lambda: aggregate(con, AggregationQuery(axis_x=Axis.DAY)),
                "by day x country": lambda: aggregate(con, AggregationQuery(axis_x=Axis.DAY, axis_y=Axis.COUNTRY)),
                "IR by domain": lambda: aggregate(con, AggregationQuery(axis_x=Axis.DOMAIN, probe_cc="IR")),
                "by category": lambda: aggregate(con, AggregationQuery(axis_x=Axis.CATEGORY)),
                "same counts by a direct join of the raw tables (no roll-up)": lambda: con.execute(
                    f"SELECT 1 FROM ({SOURCE_SQL.format(where='')}) GROUP BY ALL").fetchall(),
            }
            for name, run in queries.items():
                best = min(_timed(run) for _ in range(3))
                verdict = "under" if best < TARGET_SECONDS else "OVER"
                print(f"aggregation {name}: {best * 1000:.0f} ms ({verdict} the {TARGET_SECONDS:.0f} s target)")
    finally:
        db.close()


def _generate(path: Path) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute(f"""INSERT INTO measurements SELECT
        printf('%014d.000000_XX_webconnectivity_%020d', i, i), 'bench', 'web_connectivity', '0.4.3',
        'https://d' || (i % 5000) || '.example/', 'd' || (i % 5000) || '.example',
        ['IR','RU','CN','UG','MM','IT','BR','IN'][1 + i % 8], 'AS' || (1000 + i % 200),
        TIMESTAMP '2026-01-01' + to_seconds((i * 7919) % (365 * 86400)), 'sha', 'bench', 'line', ''::BLOB, now()
        FROM range({MEASUREMENTS}) t(i)""")
    con.execute(f"""INSERT INTO verdicts SELECT m.uid, k, k = 0, 'web',
        CASE WHEN h % 10 = 0 THEN 'dns.bogon' WHEN h % 10 = 1 THEN 'down' ELSE 'ok' END,
        CASE WHEN h % 10 = 0 THEN 'blocked' WHEN h % 10 = 1 THEN 'down' ELSE 'ok' END,
        CASE WHEN h % 20 = 0 THEN 1.0 ELSE 0.8 END, 'bench@1', NULL, 0, '{{}}', '1', '1', now()
        FROM (SELECT uid, hash(uid) AS h FROM measurements) m, range({1 + LAYER_VERDICTS}) t(k)""")
    con.close()


def _timed(run: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    run()
    return time.perf_counter() - t0


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="netvigil-bench-api-") as tmp:
        collector(Path(tmp))
        aggregation(Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
