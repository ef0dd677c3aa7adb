"""Ingest benchmark: end-to-end ingest + analyse + store against the bare JSON parse.

Generates N synthetic web_connectivity measurements (bodies of 1 to 100 KB, a mix of
blocked, down and ok), then measures on ONE core (the process is pinned):

* bare:  reading the same JSONL lines and ``orjson.loads`` on each;
* e2e:   ``netvigil`` ingest: read, quarantine check, analyse, compress, store in DuckDB
  (opening, creating and closing the store file included), with the fingerprints
  ``load_default_fingerprints`` finds (the reference sets under ``$NETVIGIL_SHARED_DATA``
  if set, else the few built-in ones; the count is printed);

and prints measurements per second and the ratio of the two times, in wall-clock and in
CPU seconds of this process (DuckDB's threads included).  The CPU ratio moves less when
other processes share the core; the issue-12 target is 10x.  ``--memory-gb G`` also
streams a G-GB input through ingest and prints the peak RSS (target: 2 GB input under
1 GB RSS).  Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import orjson
import psutil

from netvigil.engine import pipeline
from netvigil.store.db import open_store
from netvigil.store.reference_data import load_default_fingerprints
from netvigil.store.sources import iter_records
from netvigil.testbed.synthetic import write_jsonl


class Timer:
    """Wall-clock and CPU seconds of a block."""

    def __enter__(self) -> Timer:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def bare_parse(path: Path) -> tuple[int, Timer]:
    n = 0
    with Timer() as timer, open(path, "rb") as f:
        for line in f:
            orjson.loads(line)
            n += 1
    return n, timer


def ingest(path: Path, db: Path, fingerprints) -> tuple[int, Timer]:
    with Timer() as timer, open_store(db) as store:
        summary = pipeline.ingest(store, iter_records([str(path)]), fingerprints)
    assert summary.read == summary.stored + summary.quarantined + summary.duplicates
    return summary.stored, timer


class PeakRSS:
    """Samples this process's resident memory every 50 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        proc = psutil.Process()
        while not self._stop.is_set():
            self.peak = max(self.peak, proc.memory_info().rss)
            time.sleep(0.05)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--memory-gb", type=float, default=0.0)
    args = parser.parse_args()
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    fingerprints = load_default_fingerprints()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "measurements.jsonl"
        write_jsonl(str(data), args.count, seed=1)
        size_mb = data.stat().st_size / 1e6
        n_bare, bare = bare_parse(data)
        n_e2e, e2e = ingest(data, Path(tmp) / "bench.duckdb", fingerprints)
        print(f"input: {n_bare} measurements, {size_mb:.0f} MB ({size_mb * 1e3 / n_bare:.1f} KB each), "
              f"{fingerprints.size} fingerprints, 1 core")
        print(f"bare orjson.loads: {n_bare / bare.wall:,.0f} measurements/s "
              f"({bare.wall:.3f} s wall, {bare.cpu:.3f} s CPU)")
        print(f"ingest+analyse+store: {n_e2e / e2e.wall:,.0f} measurements/s "
              f"({e2e.wall:.3f} s wall, {e2e.cpu:.3f} s CPU)")
        print(f"ratio e2e/bare time: {e2e.wall / bare.wall:.2f}x wall, {e2e.cpu / bare.cpu:.2f}x CPU (target 10x)")
        if args.memory_gb:
            big = Path(tmp) / "big.jsonl"
            per = size_mb * 1e6 / n_bare
            count = int(args.memory_gb * 1e9 / per)
            write_jsonl(str(big), count, seed=2)
            with PeakRSS() as rss:
                n_big, big_time = ingest(big, Path(tmp) / "big.duckdb", fingerprints)
            print(f"streaming: {big.stat().st_size / 1e9:.2f} GB input, {n_big} measurements in {big_time.wall:.0f} s, "
                  f"peak RSS {rss.peak / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
