"""One job: many input files analysed in parallel into one partitioned Parquet dataset.

Two engines run the same two stages:

1. one task per input file (:func:`netvigil.engine.tasks.analyse_file`);
2. one task per (day, country) partition that two or more files wrote to, dropping a
   measurement met again in a later file (the lowest ``_order`` is kept, so the result
   does not depend on which task finished first).

``local`` is a process pool over this machine's cores; ``dask`` is a dask.distributed
cluster (a LocalCluster when no scheduler address is given).  Both produce the same rows,
and the counts obey read = stored + quarantined + duplicates over the whole job: a task
that dies costs its file (quarantined as a whole), never the job.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from netvigil.engine.postcan import input_files
from netvigil.engine.tasks import DATA_TABLES, ORDER, FileResult, TaskSpec, analyse_file, task_failed
from netvigil.store.sources import Quarantined

ENGINES = ("local", "dask")
MANIFEST = "_netvigil_job.json"


class JobError(Exception):
    """The job cannot start (bad output folder, unknown engine, unreachable scheduler)."""


@dataclass
class JobSummary:
    """Counts over the whole job: read = stored + quarantined + duplicates."""

    files: int = 0
    read: int = 0
    stored: int = 0
    quarantined: int = 0
    duplicates: int = 0
    partitions: int = 0
    seconds: float = 0.0
    peak_rss: int = 0  # the highest peak resident memory any worker reported, in bytes
    cpu_seconds: float = 0.0  # CPU time of the file tasks, summed over workers
    by_reason: Counter[str] = field(default_factory=Counter)

    def add(self, result: FileResult) -> None:
        self.files += 1
        self.read += result.read
        self.stored += result.stored
        self.quarantined += result.quarantined
        self.duplicates += result.duplicates
        self.peak_rss = max(self.peak_rss, result.peak_rss)
        self.cpu_seconds += result.cpu_seconds
        self.by_reason.update(result.by_reason)

    def as_dict(self) -> dict[str, Any]:
        return {"files": self.files, "read": self.read, "stored": self.stored,
                "quarantined": self.quarantined, "duplicates": self.duplicates,
                "partitions": self.partitions, "seconds": round(self.seconds, 3),
                "by_reason": dict(self.by_reason)}


Progress = Callable[[int, int, int], None]  # (files finished, files in the job, records read)


def run_job(paths: Sequence[str], out_dir: str | Path, *, engine: str = "local", workers: int | None = None,
            scheduler: str | None = None, with_raw: bool = True, fingerprints_dir: str | Path | None = None,
            now: datetime | None = None, progress: Progress | None = None) -> JobSummary:
    """Analyse every file named by ``paths`` into ``out_dir`` (a new or empty folder)."""
    if engine not in ENGINES:
        raise JobError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    out = Path(out_dir)
    _check_empty(out)
    out.mkdir(parents=True, exist_ok=True)
    spec = TaskSpec(str(out.resolve()), with_raw, str(fingerprints_dir) if fingerprints_dir else None,
                    now or datetime.now(UTC).replace(tzinfo=None))
    started = time.perf_counter()
    summary = JobSummary()
    files = input_files(paths)
    jobs = []
    for index, entry in enumerate(files):
        if isinstance(entry, Quarantined):  # a glob that matched nothing: reported, counted once
            summary.add(task_failed(index, entry.source, spec.out_dir, FileNotFoundError(entry.reason)))
        else:  # absolute, so a worker on another machine finds it on the shared file system
            jobs.append((index, os.path.abspath(entry)))
    with _executor(engine, workers, scheduler) as submit:
        partitions: Counter[tuple[str, str]] = Counter()
        for (index, path, _), outcome in submit(analyse_file, [(i, p, spec) for i, p in jobs]):
            result = outcome if isinstance(outcome, FileResult) else task_failed(index, path, spec.out_dir, outcome)
            summary.add(result)
            partitions.update(result.partitions)
            if progress is not None:
                progress(summary.files, len(files), summary.read)
        shared = [(spec.out_dir, day, cc) for (day, cc), n in sorted(partitions.items()) if n > 1]
        for _, dropped in submit(dedupe_partition, shared):
            if isinstance(dropped, BaseException):
                raise JobError(f"duplicate removal failed: {dropped}") from dropped
            summary.duplicates += dropped
            summary.stored -= dropped
    summary.partitions = len(partitions)
    summary.seconds = time.perf_counter() - started
    (out / MANIFEST).write_bytes(orjson.dumps({**summary.as_dict(), "engine": engine,
                                               "with_raw": with_raw}, option=orjson.OPT_INDENT_2))
    return summary


def _check_empty(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise JobError(f"{out} is not an empty folder: a job writes a whole dataset into a new folder")


Submit = Callable[[Callable[..., Any], list[tuple[Any, ...]]], Iterator[tuple[tuple[Any, ...], Any]]]


@contextmanager
def _executor(engine: str, workers: int | None, scheduler: str | None) -> Iterator[Submit]:
    """``submit(fn, arg_tuples)`` yielding (args, result or exception) as tasks finish."""
    if engine == "local":
        context = multiprocessing.get_context("spawn")  # no fork of a process with threads
        with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1, mp_context=context) as pool:
            yield lambda fn, calls: _completed({pool.submit(fn, *args): args for args in calls})
        return
    with _dask_client(workers, scheduler) as client:
        yield lambda fn, calls: _dask_completed(client, fn, calls)


def _completed(futures: dict[Future[Any], tuple[Any, ...]]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    for future in as_completed(futures):
        try:
            yield futures[future], future.result()
        except Exception as exc:  # noqa: BLE001 — a dead worker process: the caller quarantines that file
            yield futures[future], exc


@contextmanager
def _dask_client(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="30s")
        except OSError as exc:
            raise JobError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
        with client:
            yield client
        return
    with LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


def _dask_completed(client: Any, fn: Callable[..., Any], calls: list[tuple[Any, ...]]
                    ) -> Iterator[tuple[tuple[Any, ...], Any]]:
    from distributed import as_completed as dask_completed

    futures = {client.submit(fn, *args, pure=False, retries=1): args for args in calls}
    for future in dask_completed(list(futures)):
        try:
            yield futures[future], future.result()
        except Exception as exc:  # noqa: BLE001 — KilledWorker and friends: the caller quarantines that file
            yield futures[future], exc


def dedupe_partition(out_dir: str, day: str, cc: str) -> int:
    """Drop the later copies of any uid met in several files of one partition; returns how many."""
    folder = Path(out_dir) / "measurements" / f"day={day}" / f"cc={cc}"
    best: dict[str, int] = {}
    for part in sorted(folder.glob("*.parquet")):
        keys = pq.read_table(part, columns=["uid", ORDER])
        for uid, order in zip(keys["uid"].to_pylist(), keys[ORDER].to_pylist(), strict=True):
            if uid not in best or order < best[uid]:
                best[uid] = order
    dropped = 0
    for table in DATA_TABLES:
        for part in sorted((Path(out_dir) / table / f"day={day}" / f"cc={cc}").glob("*.parquet")):
            removed = _keep_best(part, best)
            dropped += removed if table == "measurements" else 0
    return dropped


def _keep_best(part: Path, best: dict[str, int]) -> int:
    """Rewrite one part without rows whose uid is better kept from another file; rows removed."""
    rows = pq.read_table(part)
    keep = [best.get(uid, order) == order
            for uid, order in zip(rows["uid"].to_pylist(), rows[ORDER].to_pylist(), strict=True)]
    removed = keep.count(False)
    if removed:
        kept = rows.filter(pa.array(keep))
        tmp = part.with_name(part.name + ".tmp")
        pq.write_table(kept, tmp, compression={n: ("none" if n == "raw" else "zstd") for n in kept.schema.names})
        os.replace(tmp, part)
        if kept.num_rows == 0:
            part.unlink()
    return removed

