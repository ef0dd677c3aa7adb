"""Engine benchmark: a generated archive of at least 1 GB through the parallel job, 1 and 2 workers.

Generates ``--gb`` GB of synthetic web_connectivity measurements (bodies of 1 to 100 KB,
a mix of blocked, down and ok) as ``--files`` JSONL cans of one country and one day each,
as OONI's archive is cut, then runs the full ingest job
(read, quarantine check, analyse, compress, partitioned Parquet, duplicate removal) on a
dask.distributed LocalCluster with 1 worker, then with 2, and on the local process pool
with 2; it prints measurements per second, the peak resident memory per worker, and the
scaling ratio.  The cluster is started before the clock starts.  The machine's load
average is printed too: other processes share the CPU.  Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

import orjson
from distributed import LocalCluster

from netvigil.engine.job import run_job
from netvigil.testbed.synthetic import generate as generate_measurements

PER_MEASUREMENT = 30_500  # bytes: the mean size of a generated measurement (bench_ingest.py)


COUNTRIES = ("IR", "RU", "CN", "MM", "UG", "IN", "TR", "ID", "BR", "IT")


def _write(args: tuple[str, int, int, str, date]) -> int:
    """One can as OONI cuts them: one country, one day (times spread over that day)."""
    path, count, seed, cc, day = args
    with open(path, "wb") as out:
        for i, g in enumerate(generate_measurements(count, seed=seed)):
            when = datetime.combine(day, datetime.min.time()) + timedelta(seconds=i * 86_400 // count)
            m = {**g.measurement, "probe_cc": cc, "measurement_start_time": when.strftime("%Y-%m-%d %H:%M:%S")}
            out.write(orjson.dumps(m) + b"\n")
    return count


def generate(folder: Path, gb: float, files: int) -> tuple[int, int]:
    per_file = int(gb * 1e9 / PER_MEASUREMENT / files) + 1
    jobs = [(str(folder / f"{COUNTRIES[i % len(COUNTRIES)]}-{i:03d}.jsonl"), per_file, 100 + i,
             COUNTRIES[i % len(COUNTRIES)], date(2026, 10, 1) + timedelta(days=i // len(COUNTRIES)))
            for i in range(files)]
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        count = sum(pool.map(_write, jobs))
    size = sum(p.stat().st_size for p in folder.glob("*.jsonl"))
    return count, size


def run(label: str, inputs: Path, out: Path, **engine: object) -> float:
    load = os.getloadavg()[0]
    summary = run_job([str(inputs)], out, **engine)
    written = sum(p.stat().st_size for p in out.rglob("*.parquet"))
    shutil.rmtree(out)
    rate = summary.stored / summary.seconds
    print(f"{label}: {summary.stored:,} measurements in {summary.seconds:.1f} s = {rate:,.0f} measurements/s; "
          f"{summary.stored / summary.cpu_seconds:,.0f} per worker CPU-second; "
          f"peak RSS per worker {summary.peak_rss / 2**20:,.0f} MiB; "
          f"read {summary.read:,} = stored {summary.stored:,} + quarantined {summary.quarantined:,} + "
          f"duplicates {summary.duplicates:,}; Parquet {written / 1e9:.2f} GB; load average before {load:.2f}, after {os.getloadavg()[0]:.2f}",
          flush=True)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.05)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one)")
    parser.add_argument("--archive", type=Path, default=None,
                        help="keep the generated archive here and reuse it on the next run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        inputs = args.archive or Path(tmp) / "archive"
        started = time.perf_counter()
        if inputs.is_dir() and any(inputs.glob("*.jsonl")):
            count = sum(1 for p in inputs.glob("*.jsonl") for _ in open(p, "rb"))
            size = sum(p.stat().st_size for p in inputs.glob("*.jsonl"))
        else:
            inputs.mkdir(parents=True, exist_ok=True)
            count, size = generate(inputs, args.gb, args.files)
        print(f"archive: {count:,} measurements in {args.files} files, {size / 1e9:.2f} GB "
              f"({size / count / 1e3:.1f} KB each), generated in {time.perf_counter() - started:.0f} s; "
              f"{os.cpu_count()} cores", flush=True)
        rates = {}
        for workers in (1, 2):
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster:
                rates[workers] = run(f"dask, {workers} worker(s)", inputs, Path(tmp) / f"dask{workers}",
                                     engine="dask", scheduler=cluster.scheduler_address)
        run("local process pool, 2 workers", inputs, Path(tmp) / "local2", engine="local", workers=2)
        print(f"scaling 1 -> 2 workers (dask): {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
