"""Analysis throughput with and without IP-to-ASN lookups (issue 9: at most 10 % slower).

Measures ``analyze_measurement`` alone on ONE core (the process is pinned), over
synthetic web_connectivity measurements (the ingest benchmark's generator) plus,
when the shared data is present, every real web_connectivity measurement and the
50 OONI QA scenarios.  Variants:

* off:   the measurement's own network data only;
* cold:  an ASN database opened fresh, so every address is a first lookup;
* warm:  the same database after one pass (its per-address cache filled), as in a
         long ingest where addresses repeat.

The database is geoip2fast's bundled data by default; ``--asn-db`` adds sources
(e.g. the RouteViews-derived ``asn-ipv4.csv`` of npm ``@ip-location-db/asn``).
Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import time

import orjson

from netvigil.analysis.web import analyze_measurement
from netvigil.model.measurement import Measurement, measurement_from_dict
from netvigil.store.asn import open_asn_lookup
from netvigil.store.reference_data import load_default_fingerprints, shared_data_dir
from netvigil.testbed.synthetic import generate


class Counting:
    """Counts the lookups the analysis asks for and the CPU time spent in them."""

    def __init__(self, inner) -> None:
        self.inner, self.calls, self.seconds = inner, 0, 0.0

    def lookup(self, ip: str):
        self.calls += 1
        start = time.process_time()
        try:
            return self.inner.lookup(ip)
        finally:
            self.seconds += time.process_time() - start


def corpus(count: int) -> list[Measurement]:
    found = [measurement_from_dict(g.measurement) for g in generate(count, seed=1)]
    data = shared_data_dir()
    paths = sorted((data / "ooni-backend/fastpath/fastpath/tests/data").glob("*.json"))
    paths += sorted((data / "ooni-probe-cli/internal/minipipeline/testdata/webconnectivity").glob("*/*/measurement.json"))
    for path in paths:
        obj = orjson.loads(path.read_bytes())
        if isinstance(obj, dict) and obj.get("test_name") == "web_connectivity":
            found.append(measurement_from_dict(obj))
    return found


def timed(measurements: list[Measurement], fingerprints, asn, repeat: int) -> float:
    """CPU seconds of this process (less disturbed than wall time on a shared machine)."""
    start = time.process_time()
    for _ in range(repeat):
        for m in measurements:
            analyze_measurement(m, fingerprints, asn)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5_000, help="synthetic measurements")
    parser.add_argument("--repeat", type=int, default=7, help="interleaved rounds")
    parser.add_argument("--passes", type=int, default=1, help="passes over the corpus per round")
    parser.add_argument("--asn-db", action="append", default=[], help="extra ASN sources, tried first")
    args = parser.parse_args()
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    fingerprints = load_default_fingerprints()
    measurements = corpus(args.count)
    sources = args.asn_db + ["geoip2fast"]
    print(f"corpus: {len(measurements)} web_connectivity measurements, "
          f"{fingerprints.size} fingerprints, ASN sources {sources}, 1 core")
    timed(measurements, fingerprints, None, 1)  # warm the interpreter and fingerprint caches
    best = {"off": float("inf"), "on, cold cache": float("inf"), "on, warm cache": float("inf")}
    calls, in_lookups, cold_pass = 0, 0.0, 0.0
    load = 0.0
    for _ in range(args.repeat):  # interleaved rounds, best of each: the machine is shared
        best["off"] = min(best["off"], timed(measurements, fingerprints, None, args.passes))
        load_start = time.perf_counter()
        lookup = open_asn_lookup(sources)  # fresh: its per-address cache is empty
        load = time.perf_counter() - load_start
        counting = Counting(lookup)
        cold_pass = timed(measurements, fingerprints, counting, 1)
        best["on, cold cache"] = min(best["on, cold cache"], cold_pass * args.passes)
        calls, in_lookups = counting.calls, counting.seconds
        best["on, warm cache"] = min(best["on, warm cache"], timed(measurements, fingerprints, lookup, args.passes))
    print(f"ASN database opened in {load:.2f} s; {calls} lookups per pass "
          f"({calls / len(measurements):.2f} per measurement); best of {args.repeat} interleaved rounds")
    print(f"CPU time inside ASN lookups, cold pass: {in_lookups * 1e3:.1f} ms of {cold_pass:.2f} s "
          f"({in_lookups / cold_pass * 100:.2f} %)")
    for name, t in best.items():
        change = (best["off"] / t - 1) * 100
        print(f"analysis, ASN lookups {name:15s}: {len(measurements) * args.passes / t:,.0f} measurements per CPU-second "
              f"({change:+.1f} % vs off)")

if __name__ == "__main__":
    main()
