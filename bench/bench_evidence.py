"""Transparency-log benchmarks: appends, proofs at 10 million leaves, verifying a report's evidence.

1. Appends: LEAVES log entries (one in CITED_EVERY signed by a probe key) appended
   to a DuckDB file log in batches of BATCH (one transaction and one signed tree
   head each); then SMALL_APPENDS appends of one entry each at full size, as a
   collector taking single measurements does.  Prints appends/s and peak RSS.
2. Proofs at full size: inclusion proofs of PROOFS random leaves (by index, and by
   uid including the lookup) and consistency proofs between random sizes; the
   p50 / p99 time of each.  Proofs read O(log² n) stored subtree hashes, never leaves.
3. A report's evidence: a bundle citing REPORT_CITED signed measurements is built
   from the store (one batched node lookup) and verified offline (every inclusion
   proof and signature, and the tree head's signature).

``--leaves N`` changes the size (default 10,000,000).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from netvigil.evidence import merkle
from netvigil.evidence.records import LogEntry
from netvigil.evidence.signing import MEASUREMENT_CONTEXT, Signer, b64
from netvigil.evidence.verify import verify_bundle
from netvigil.store.log import MerkleLog, evidence_bundle

LEAVES = 10_000_000
BATCH = 100_000
CITED_EVERY = 10_000       # -> 1,000 signed entries at 10 M leaves, the report's citations
SMALL_APPENDS = 200
PROOFS = 1_000
REPORT_CITED = 1_000
MEMORY_LIMIT = "512MB"


def entries(start: int, count: int, probe: Signer) -> list[LogEntry]:
    out = []
    for i in range(start, start + count):
        sha = f"{i:064x}"
        if i % CITED_EVERY == 0:
            content = bytes.fromhex(f"{i:064x}")
            out.append(LogEntry(uid=f"u{i:010d}", sha256=sha, key_id=probe.key_id, content_sha256=content.hex(),
                                signature=b64(probe.sign(MEASUREMENT_CONTEXT + content))))
        else:
            out.append(LogEntry(uid=f"u{i:010d}", sha256=sha))
    return out


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], object], n: int) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def pct(times: list[float], q: float) -> float:
    return sorted(times)[min(len(times) - 1, int(q * len(times)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leaves", type=int, default=LEAVES)
    args = parser.parse_args()
    n = args.leaves
    rng = random.Random(13)
    log_key, probe = Signer.generate(), Signer.generate()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "log.duckdb"
        con = duckdb.connect(str(db))
        con.execute("SET memory_limit = ?", [MEMORY_LIMIT])
        log = MerkleLog(con, log_key)
        log.remember_probe_keys({probe.key_id: probe.public_key})
        t0, c0 = time.perf_counter(), time.process_time()
        for start in range(0, n, BATCH):
            log.append(entries(start, min(BATCH, n - start), probe))
        build, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"appends, batches of {BATCH:,}: {n:,} leaves in {build:.1f} s = {n / build:,.0f} appends/s "
              f"({cpu:.1f} s CPU = {n / cpu:,.0f} appends per CPU second; peak RSS {rss_mib():,.0f} MiB, "
              f"file {db.stat().st_size / 2**20:,.0f} MiB)")
        c0 = time.process_time()
        small = timed(lambda: log.append(entries(log.size, 1, probe)), SMALL_APPENDS)
        cpu = time.process_time() - c0
        print(f"appends, one per transaction at {log.size:,} leaves: {SMALL_APPENDS / sum(small):,.0f} appends/s "
              f"(p50 {pct(small, 0.5):.1f} ms, p99 {pct(small, 0.99):.1f} ms; {cpu / SMALL_APPENDS * 1000:.1f} ms CPU "
              "each, signing and committing a tree head every time)")

        size = log.size
        root = log.root(size)
        indexes = [rng.randrange(size) for _ in range(PROOFS)]
        it = iter(indexes)
        by_index = timed(lambda: log.inclusion_proof(next(it), size), PROOFS)
        i = indexes[0]
        merkle.verify_inclusion(i, size, entries(i, 1, probe)[0].leaf_hash(), log.inclusion_proof(i, size), root)
        print(f"inclusion proof at {size:,} leaves, by index: p50 {pct(by_index, 0.5):.2f} ms, "
              f"p99 {pct(by_index, 0.99):.2f} ms")
        it = iter(indexes[:200])

        def by_uid_proof() -> None:
            found = log.find(f"u{next(it):010d}")
            assert found is not None
            log.inclusion_proof(found.index, size)

        by_uid = timed(by_uid_proof, 200)
        print(f"inclusion proof at {size:,} leaves, by uid (lookup + proof): p50 {pct(by_uid, 0.5):.1f} ms, "
              f"p99 {pct(by_uid, 0.99):.1f} ms")
        olds = iter([rng.randrange(1, size) for _ in range(PROOFS)])
        cons = timed(lambda: log.consistency_proof(next(olds), size), PROOFS)
        print(f"consistency proof to {size:,} leaves: p50 {pct(cons, 0.5):.2f} ms, p99 {pct(cons, 0.99):.2f} ms")

        cited = [f"u{i:010d}" for i in range(0, size, CITED_EVERY)][:REPORT_CITED]
        t0 = time.perf_counter()
        bundle = evidence_bundle(con, cited, bodies=False)
        built = time.perf_counter() - t0
        assert bundle is not None and len(bundle.entries) == len(cited)
        t0 = time.perf_counter()
        result = verify_bundle(bundle)
        checked = time.perf_counter() - t0
        assert result.ok, result.problems[:3]
        signed = sum(e.entry.signed for e in bundle.entries)
        print(f"report citing {len(cited):,} measurements ({signed:,} signed): evidence built in {built:.2f} s, "
              f"verified offline in {checked:.2f} s ({len(result.findings):,} checks)")
        print(f"node cache: {len(log.cache):,} subtree hashes; peak RSS {rss_mib():,.0f} MiB; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        con.close()


if __name__ == "__main__":
    main()
