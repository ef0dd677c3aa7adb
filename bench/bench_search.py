"""Search benchmark: p50 / p95 / p99 of explorer searches over 10 million verdict rows.

2.5 million measurements and 10 million verdict rows (one summary and three layer
verdicts each) are generated straight into a store file with SQL: 8 countries, 200
networks, 5,000 domains (twitter.com among them), a year of start times, and
summary outcomes mixing ok, blocked (eight techniques), down and unknown.  The
store is then opened as ``netvigil serve`` opens it (which builds the explorer's
flat search table), and a fixed random mix of searches runs through the same
function the ``/api/v1/search`` route calls: each answer counts every match and
returns one page of 50, sorted.  Prints the latency distribution overall and per
kind of search, the table build time, and the first-page time of a CSV download.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from netvigil.store.database import open_database
from netvigil.api.explorer import Order, Sort, search_filter, search_page
from netvigil.store import explorer
from netvigil.store.db import open_store

MEASUREMENTS, LAYER_VERDICTS = 2_500_000, 3
QUERIES_PER_KIND = 40
SEED = 14
COUNTRIES = ("IR", "RU", "CN", "UG", "MM", "IT", "BR", "IN")
BLOCKING = ("dns.bogon", "dns.nxdomain", "dns.spoof", "tcp.timeout", "tls.reset", "http.reset", "http.diff",
            "http.blockpage")


def generate(path: Path) -> None:
    open_store(path).close()
    con = duckdb.connect(str(path))
    countries = ", ".join(f"'{c}'" for c in COUNTRIES)
    con.execute(f"""INSERT INTO measurements SELECT
        printf('%014d.000000_XX_webconnectivity_%020d', i, i), 'bench', 'web_connectivity', '0.4.3',
        CASE WHEN i % 5000 = 0 THEN 'https://twitter.com/' ELSE 'https://d' || (i % 5000) || '.example/' END,
        CASE WHEN i % 5000 = 0 THEN 'twitter.com' ELSE 'd' || (i % 5000) || '.example' END,
        [{countries}][1 + i % 8], 'AS' || (1000 + i % 200),
        TIMESTAMP '2026-01-01' + to_seconds((i * 7919) % (365 * 86400)), sha256(i::VARCHAR), 'bench', 'line',
        ''::BLOB, now()
        FROM range({MEASUREMENTS}) t(i)""")
    techniques = ", ".join(f"'{t}'" for t in BLOCKING)
    con.execute(f"""INSERT INTO verdicts SELECT m.uid, k, k = 0, 'web',
        CASE WHEN h % 10 < 2 THEN [{techniques}][CAST(1 + (h // 10) % 8 AS BIGINT)] WHEN h % 10 = 2 THEN 'down'
             WHEN h % 10 = 3 THEN 'unknown' ELSE 'ok' END,
        CASE WHEN h % 10 < 2 THEN 'blocked' WHEN h % 10 = 2 THEN 'down' WHEN h % 10 = 3 THEN 'unknown' ELSE 'ok' END,
        CASE WHEN h % 20 = 0 THEN 1.0 ELSE 0.85 END, 'bench@1', NULL, 0, '{{}}', '1', '1', now()
        FROM (SELECT uid, hash(uid) AS h FROM measurements) m, range({1 + LAYER_VERDICTS}) t(k)""")
    con.close()


def query_kinds(rng: random.Random) -> dict[str, Callable[[], dict[str, object]]]:
    """Each kind of search a person makes, with random values drawn per run."""
    def day() -> datetime:
        return datetime(2026, 1, 1) + timedelta(days=rng.randrange(330))

    return {
        "newest, no filter": dict,
        "one country": lambda: {"probe_cc": rng.choice(COUNTRIES)},
        "country + outcome blocked": lambda: {"probe_cc": rng.choice(COUNTRIES), "outcome": "blocked"},
        "domain (twitter.com) + country": lambda: {"domain": "twitter.com", "probe_cc": rng.choice(COUNTRIES)},
        "one domain": lambda: {"domain": f"d{rng.randrange(1, 5000)}.example"},
        "network + DNS layer": lambda: {"probe_asn": f"AS{1000 + rng.randrange(200)}", "technique": "dns"},
        "country + technique + month": lambda: {"probe_cc": rng.choice(COUNTRIES), "technique": rng.choice(BLOCKING),
                                                "since": (d := day()), "until": d + timedelta(days=30)},
        "URL prefix": lambda: {"url": f"https://d{rng.randrange(1, 500)}"},
        "country sorted by network, page 20": lambda: {"probe_cc": rng.choice(COUNTRIES), "_sort": Sort.NETWORK,
                                                       "_offset": 950},
    }


def run(path: Path) -> None:
    t0 = time.perf_counter()
    db = open_database(path)  # builds the roll-up and the explorer table, as `netvigil serve` does
    print(f"store opened, roll-up and search table built in {time.perf_counter() - t0:.1f} s")
    rng = random.Random(SEED)
    try:
        with db.read() as con:
            verdicts = con.execute("SELECT count(*) FROM verdicts").fetchall()[0][0]
            rows = con.execute(f"SELECT count(*) FROM {explorer.TABLE}").fetchall()[0][0]
            print(f"verdict rows: {verdicts:,}; search table rows: {rows:,}")
            every: list[float] = []
            kinds = query_kinds(rng)
            search_page(con, search_filter(), sort=Sort.TIME, order=Order.DESC, limit=50, offset=0)  # warm-up
            for name, make in kinds.items():
                timings = []
                for _ in range(QUERIES_PER_KIND):
                    params = make()
                    sort = params.pop("_sort", Sort.TIME)
                    offset = params.pop("_offset", 0)
                    flt = search_filter(**params)  # type: ignore[arg-type]
                    start = time.perf_counter()
                    search_page(con, flt, sort=sort, order=Order.DESC, limit=50, offset=offset)  # type: ignore[arg-type]
                    timings.append(time.perf_counter() - start)
                every += timings
                print(f"  {name:38s} p50 {_ms(timings, 0.5):>6} ms   p95 {_ms(timings, 0.95):>6} ms")
            print(f"search over {verdicts:,} verdict rows, {len(every)} queries: p50 {_ms(every, 0.5)} ms, "
                  f"p95 {_ms(every, 0.95)} ms, p99 {_ms(every, 0.99)} ms, mean {statistics.mean(every) * 1000:.0f} ms")
            flt = search_filter(probe_cc="UG", outcome="blocked")
            start = time.perf_counter()
            count = sum(1 for _ in explorer.search_rows(con, flt, cap=100_000))
            print(f"download of {count:,} rows (UG blocked, the 100,000-row cap): {time.perf_counter() - start:.2f} s")
    finally:
        db.close()


def _ms(values: list[float], q: float) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.0f}"


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="netvigil-bench-search-") as tmp:
        path = Path(tmp) / "ten-million.duckdb"
        t0 = time.perf_counter()
        generate(path)
        print(f"generated {MEASUREMENTS:,} measurements and {MEASUREMENTS * (1 + LAYER_VERDICTS):,} verdict rows "
              f"in {time.perf_counter() - t0:.1f} s")
        run(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
