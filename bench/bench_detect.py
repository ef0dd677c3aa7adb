"""Benchmark of outage and blocking detection at observatory scale (issue 5).

10,000 entities x 30 days of 5-minute bins (86.4 million points) generated as
``numpy`` matrices by :mod:`netvigil.detect.synthetic`, one outage injected per
entity; then the IODA-style ratio detector over the connectivity matrix and the
CUSUM over an anomaly-rate matrix of the same size.  Issue 11: the connectivity
detector now runs the ratio and the count CUSUM side by side; a third matrix of the
same size holds small regions' Poisson counts (2-12 an hour, one 8-hour drop to 0
per entity), judged as counts; the incidents of all three are merged with the
recovery rule and given their likely kind.  Prints seconds per stage and the peak
resident memory.  Prints figures only.

Run: ``cd /work/main && PYTHONPATH=src .venv/bin/python bench/bench_detect.py [--entities N] [--days D]``
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import UTC, datetime, timedelta

import numpy as np

from netvigil.detect.base import default_detectors, detect_matrix
from netvigil.detect.grid import SeriesMeta, SignalMatrix
from netvigil.detect.incidents import RECOVERY, merge_incidents
from netvigil.detect.kind import classify
from netvigil.detect.records import SignalKind
from netvigil.detect.synthetic import clean_matrix, diurnal_counts, inject, random_outages

STEP = timedelta(minutes=5)
SEED = 20191116
ORIGIN = datetime(2024, 1, 1, tzinfo=UTC)


def matrix(kind: SignalKind, values: np.ndarray) -> SignalMatrix:
    meta = SeriesMeta(source="bench", kind=kind, entities=tuple(map(str, range(values.shape[0]))), origin=ORIGIN,
                      step=STEP)
    return SignalMatrix(meta=meta, values=values, weights=np.isfinite(values).astype(np.float32))


def anomaly_rates(rng: np.random.Generator, entities: int, bins: int) -> np.ndarray:
    """Per-bin blocking scores: mostly near 0, one blocking week of scores near 0.75 for every 10th entity."""
    rates = rng.beta(0.5, 8.0, size=(entities, bins)).astype(np.float32)
    blocked = slice(bins // 2, bins // 2 + 7 * 288)
    rates[::10, blocked] = np.clip(rates[::10, blocked] + 0.7, 0.0, 1.0)
    rates[rng.random((entities, bins), dtype=np.float32) < 0.3] = np.nan  # bins with no measurement
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    bins = int(timedelta(days=args.days) / STEP)
    rng = np.random.default_rng(SEED)
    detectors = default_detectors()

    t0, c0 = time.perf_counter(), time.process_time()
    counts = clean_matrix(rng, entities=args.entities, bins=bins, step=STEP, dtype=np.float32)
    outages = random_outages(rng, entities=args.entities, bins=bins, per_entity=1, min_length=2, max_length=48,
                             min_depth=0.5, max_depth=1.0, first_bin=2 * 288)
    counts = inject(counts, outages)
    rates = anomaly_rates(rng, args.entities, bins)
    small = diurnal_counts(rng, entities=args.entities, bins=bins, step=STEP, low=2.0, high=12.0).astype(np.float32)
    drops = random_outages(rng, entities=args.entities, bins=bins, per_entity=1, min_length=96, max_length=96,
                           min_depth=1.0, max_depth=1.0, first_bin=8 * 288)
    small = inject(small, drops)
    t1, c1 = time.perf_counter(), time.process_time()
    ratio = detect_matrix(matrix(SignalKind.ACTIVE_PROBING, counts), detectors[SignalKind.ACTIVE_PROBING])
    t2, c2 = time.perf_counter(), time.process_time()
    cusum = detect_matrix(matrix(SignalKind.ANOMALY_RATE, rates), detectors[SignalKind.ANOMALY_RATE])
    t3, c3 = time.perf_counter(), time.process_time()
    low = detect_matrix(matrix(SignalKind.ACTIVE_PROBING, small), detectors[SignalKind.ACTIVE_PROBING])
    t4, c4 = time.perf_counter(), time.process_time()
    incidents = classify(merge_incidents([*ratio, *cusum, *low], recovery=RECOVERY))
    t5, c5 = time.perf_counter(), time.process_time()

    points = args.entities * bins
    print(f"entities {args.entities:,}  bins {bins:,}  points per matrix {points:,}")
    print(f"generate        {t1 - t0:7.2f} s")
    print(f"ratio+counts    {t2 - t1:7.2f} s  ({points / (t2 - t1) / 1e6:.1f} M points/s, {len(ratio):,} detections)")
    print(f"cusum           {t3 - t2:7.2f} s  ({points / (t3 - t2) / 1e6:.1f} M points/s, {len(cusum):,} detections)")
    print(f"low counts      {t4 - t3:7.2f} s  ({points / (t4 - t3) / 1e6:.1f} M points/s, {len(low):,} detections)")
    print(f"incidents+kind  {t5 - t4:7.2f} s  ({len(incidents):,} incidents)")
    print(f"detect total    {t5 - t1:7.2f} s  (per 86 M-point matrix: ratio+counts {t2 - t1:.2f} s, "
          f"low counts {t4 - t3:.2f} s)")
    print(f"CPU time        generate {c1 - c0:.2f} s, ratio+counts {c2 - c1:.2f} s, cusum {c3 - c2:.2f} s, "
          f"low counts {c4 - c3:.2f} s, incidents+kind {c5 - c4:.2f} s, detect total {c5 - c1:.2f} s "
          "(this process; wall times above include waiting for cores shared with other work)")
    print(f"peak RSS        {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:7.0f} MiB")


if __name__ == "__main__":
    main()
