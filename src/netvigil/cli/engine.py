"""Command-line parts of the engine: ``fetch-ooni`` and the ``--engine`` options of ingest/analyze.

Parsing and printing only; the work is in :mod:`netvigil.engine.fetch` and
:mod:`netvigil.engine.job`.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from netvigil.engine import pipeline
from netvigil.engine.fetch import ENDPOINT_ENV, Fetched, FetchError, fetch_files, list_wanted, s3_client
from netvigil.engine.job import ENGINES, JobError, run_job
from netvigil.engine.layout import OONI_BUCKET, Wanted
from netvigil.engine.postcan import iter_inputs
from netvigil.store.db import open_store
from netvigil.store.parquet import link_dataset
from netvigil.store.reference_data import load_default_fingerprints
from netvigil.store.sources import Item

_out = Console(highlight=False, markup=False, emoji=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, markup=False, emoji=False, soft_wrap=True)


# --- fetch-ooni -----------------------------------------------------------------------------


def add_fetch_parser(commands: argparse._SubParsersAction) -> None:
    fetch = commands.add_parser(
        "fetch-ooni", help="Download OONI measurements from its public S3 bucket (anonymously).",
        description="Download one country's measurements of one test for a range of days from OONI's "
                    "S3 archive (daily JSONL cans before 2020-10-21, hourly cans or postcans after). "
                    "A restarted fetch skips files it already has, verified by size and hash.")
    fetch.add_argument("--country", required=True, help="2-letter country code, e.g. IR")
    fetch.add_argument("--test", default="web_connectivity", help="test name (default web_connectivity)")
    fetch.add_argument("--since", required=True, type=date.fromisoformat, help="first UTC day, YYYY-MM-DD")
    fetch.add_argument("--until", required=True, type=date.fromisoformat, help="last UTC day (inclusive)")
    fetch.add_argument("--into", type=Path, default=Path("ooni-data"), help="folder (default ./ooni-data)")
    fetch.add_argument("--ingest", action="store_true", help="ingest each file into the store as it arrives")
    fetch.add_argument("--bucket", default=OONI_BUCKET, help=f"bucket (default {OONI_BUCKET})")
    fetch.add_argument("--endpoint-url", default=None,
                       help=f"S3 endpoint (default ${ENDPOINT_ENV}, else AWS)")
    fetch.add_argument("--db", type=Path, default=argparse.SUPPRESS, help="database file for --ingest")
    fetch.add_argument("--fingerprints", type=Path, default=argparse.SUPPRESS, metavar="DIR")
    fetch.set_defaults(run=run_fetch)


def run_fetch(args: argparse.Namespace) -> int:
    try:
        wanted = Wanted(args.country, args.test, args.since, args.until)
        client = s3_client(args.endpoint_url)
        files = list_wanted(client, wanted, args.bucket)
    except (ValueError, FetchError) as exc:
        _err.print(f"netvigil fetch-ooni: {exc}")
        return 2 if isinstance(exc, ValueError) else 1
    total = sum(f.size for f in files)
    _err.print(f"{len(files):,} files, {total:,} bytes for {wanted.cc} {wanted.test_name} "
               f"{wanted.since}..{wanted.until}")
    columns = (TextColumn("{task.fields[files]}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn(), TimeElapsedColumn())
    counts = {"downloaded": 0, "kept": 0}
    try:
        with Progress(*columns, console=_err, transient=True) as bar:
            task = bar.add_task("fetch", total=total, files=f"0/{len(files)} files")

            def fetched() -> Iterator[Fetched]:
                for done, item in enumerate(fetch_files(client, files, args.into, args.bucket,
                                                        progress=lambda n: bar.advance(task, n)), 1):
                    counts["downloaded" if item.downloaded else "kept"] += 1
                    bar.update(task, files=f"{done}/{len(files)} files")
                    yield item

            if args.ingest:
                summary = _ingest_stream(args, fetched())
            else:
                for _ in fetched():
                    pass
    except FetchError as exc:
        _err.print(f"netvigil fetch-ooni: {exc} (run again to resume)")
        return 1
    _out.print(f"{args.into}: {counts['downloaded']:,} downloaded, {counts['kept']:,} already complete")
    if args.ingest:
        _out.print(f"read {summary.read:,}  stored {summary.stored:,}  quarantined {summary.quarantined:,}  "
                   f"duplicates {summary.duplicates:,}")
    return 0


def _ingest_stream(args: argparse.Namespace, files: Iterator[Fetched]):
    """Ingest records file by file as the downloads finish: one file in memory at most."""
    def records() -> Iterator[Item]:
        for item in files:
            yield from iter_inputs([str(item.path)])

    fingerprints = load_default_fingerprints(getattr(args, "fingerprints", None))
    with open_store(getattr(args, "db", None)) as store:
        return pipeline.ingest(store, records(), fingerprints)


# --- --engine options of ingest and analyze -------------------------------------------------


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=ENGINES, default=None,
                        help="run over many files in parallel and write Parquet: local (a process pool "
                             "over every core, the default with --parquet) or dask")
    parser.add_argument("--parquet", type=Path, default=None, metavar="DIR",
                        help="new folder for the partitioned Parquet dataset (with --engine)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="Dask scheduler, e.g. tcp://10.0.0.1:8786 (default: a local cluster)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: every core)")


def wants_engine(args: argparse.Namespace) -> bool:
    return getattr(args, "engine", None) is not None or getattr(args, "parquet", None) is not None


def _engine_into_store(args: argparse.Namespace, paths: list[str]) -> int:
    """``ingest --engine E`` without --parquet: the job writes a scratch dataset, the store loads it."""
    with tempfile.TemporaryDirectory(prefix="netvigil-job-") as scratch:
        dataset = Path(scratch) / "dataset"
        try:
            summary = run_job(paths, dataset, engine=args.engine, workers=args.workers, scheduler=args.scheduler,
                              fingerprints_dir=getattr(args, "fingerprints", None))
        except JobError as exc:
            _err.print(f"netvigil: {exc}")
            return 1
        with open_store(getattr(args, "db", None)) as store:
            added, _ = store.load_dataset(dataset)
    duplicates = summary.duplicates + summary.stored - added  # already in the store before this job
    _out.print(f"read {summary.read:,}  stored {added:,}  quarantined {summary.quarantined:,}  "
               f"duplicates {duplicates:,}")
    for reason, count in summary.by_reason.most_common(10):
        _out.print(f"  {count:>9,}  {reason}")
    return 0 if added + duplicates else 1


def run_engine(args: argparse.Namespace, *, with_raw: bool) -> int:
    """An ingest (raw kept) or analysis (verdicts only) job over the given files."""
    paths = getattr(args, "paths", None) or []
    if not paths:
        _err.print("netvigil: --engine needs input files")
        return 2
    if args.parquet is None:
        if not with_raw:
            _err.print("netvigil: analyze --engine writes a dataset: give --parquet DIR")
            return 2
        return _engine_into_store(args, paths)
    engine = args.engine or "local"
    columns = (TextColumn(f"{engine}"), MofNCompleteColumn(), TextColumn("files"), BarColumn(),
               TextColumn("{task.fields[records]} records"), TimeRemainingColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=_err, transient=True) as bar:
            task = bar.add_task(engine, total=None, records="0")

            def progress(done: int, files: int, records: int) -> None:
                bar.update(task, completed=done, total=files, records=f"{records:,}")

            summary = run_job(paths, args.parquet, engine=engine, workers=args.workers,
                              scheduler=args.scheduler, with_raw=with_raw,
                              fingerprints_dir=getattr(args, "fingerprints", None), progress=progress)
    except JobError as exc:
        _err.print(f"netvigil: {exc}")
        return 1
    link = link_dataset(args.parquet)
    _out.print(f"{summary.files:,} files  read {summary.read:,}  stored {summary.stored:,}  "
               f"quarantined {summary.quarantined:,}  duplicates {summary.duplicates:,}  "
               f"in {summary.seconds:.1f} s ({engine})")
    for reason, count in summary.by_reason.most_common(10):
        _out.print(f"  {count:>9,}  {reason}")
    _out.print(f"{args.parquet}: {summary.partitions:,} day/country partitions; "
               f"query it with `netvigil stats --db {link}`")
    return 0 if summary.stored + summary.duplicates else 1
