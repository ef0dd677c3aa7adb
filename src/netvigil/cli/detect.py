"""``netvigil detect`` and ``netvigil eval outages``: the command-line edge of detection.

The main CLI wires these in with :func:`add_detect_parsers` (``detect`` and
``watch``, plus ``eval outages`` unless it owns ``eval`` itself, in which case it
calls :func:`add_eval_outages_parser` on its own ``eval`` subparsers).  Every parser
sets ``func``, which takes the parsed arguments and returns the exit code:
0 done, 1 nothing to work on, 2 unreadable input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson

from netvigil.cli.watch import add_watch_parser
from netvigil.detect.base import detect_all
from netvigil.detect.evaluate import Scores, per_class, score
from netvigil.detect.grid import to_matrices
from netvigil.detect.incidents import RECOVERY, merge_incidents
from netvigil.detect.kind import classify, watched_kinds
from netvigil.detect.records import Incident, Level, SignalPoint, country_of, incident_from_dict, iso
from netvigil.signals import Imported, SignalFormatError, load_signals
from netvigil.signals.converters import measurement_count_points, verdict_points
from netvigil.signals.generic_csv import parse_time
from netvigil.signals.monash import LEVELS
from netvigil.signals.truth import read_truth
from netvigil.store.db import default_db_path
from netvigil.store.signals_db import SignalsStoreError, open_signals_store

GROUPS: dict[str, Callable[[str], str]] = {"entity": lambda e: e, "country": country_of}


def add_detect_parsers(subparsers: Any, *, with_eval: bool = True) -> None:
    """Add ``detect`` and ``watch`` (and ``eval outages`` when ``with_eval``) to the main CLI's subparsers."""
    detect = subparsers.add_parser("detect", help="Find outages and blocking events in signal files.",
                                   description="Find outages and blocking events in signal files; "
                                               "one incident per line.")
    source = detect.add_mutually_exclusive_group(required=True)
    _signals_argument(source)
    source.add_argument("--from-store", action="store_true",
                        help="detect on the stored measurements instead (--db or $NETVIGIL_DB): anomaly rate "
                             "per country+ASN+domain (CUSUM) and measurement count per country")
    _signal_options(detect, required=False, signals=False)
    detect.add_argument("--format", choices=("jsonl",), default="jsonl")
    detect.add_argument("--min-level", choices=("warning", "critical"), default="warning",
                        help="leave out incidents below this level (default warning)")
    detect.add_argument("--store", action="store_true",
                        help="also keep the points and incidents in the database (--db or $NETVIGIL_DB)")
    detect.add_argument("--db", type=Path, default=argparse.SUPPRESS,
                        help="database file for --from-store and --store")
    detect.set_defaults(func=run_detect)
    add_watch_parser(subparsers)
    if with_eval:
        evaluate = subparsers.add_parser("eval", help="Evaluate against ground truth.")
        add_eval_outages_parser(evaluate.add_subparsers(dest="eval_command", required=True, metavar="WHAT"))


def add_eval_outages_parser(eval_subparsers: Any) -> None:
    """Add ``outages`` to the subparsers of ``netvigil eval``."""
    parser = eval_subparsers.add_parser(
        "outages", help="Precision, recall, onset and end error of detected incidents against a catalog.",
        description="Compare incidents with a ground-truth catalog (IODA investigated outages CSV, Access Now "
                    "STOP parquet/CSV, or a labelled CSV with country,start,end). An incident matches an event "
                    "of the same country whose time interval it overlaps.")
    parser.add_argument("--truth", type=Path, required=True, metavar="FILE", help="ground-truth catalog")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--incidents", type=Path, metavar="FILE", help="output of `netvigil detect` (JSONL)")
    source.add_argument("--signals", type=Path, nargs="+", metavar="FILE", help="signal files to detect on")
    _signal_options(parser, required=False, signals=False)
    parser.add_argument("--since", type=parse_time, help="window start (default: first signal time)")
    parser.add_argument("--until", type=parse_time, help="window end (default: last signal time)")
    parser.add_argument("--countries", help="comma-separated country codes the signals cover "
                                            "(default: those of the signals, or of the incidents)")
    parser.add_argument("--service-based", action="store_true",
                        help="keep STOP's service-based shutdowns (invisible to connectivity signals)")
    parser.set_defaults(func=run_eval_outages, run=run_eval_outages)  # `run` wins over the main CLI's eval default


def _signals_argument(parser: Any, *, required: bool = False) -> None:
    parser.add_argument("--signals", type=Path, nargs="+", required=required, metavar="FILE",
                        help="signal files: Monash CSV, IODA /signals/raw JSON, OONI analysis SQL, "
                             "CSV entity,time,value, or reachability rounds JSONL "
                             "(format detected from the file)")


def _signal_options(parser: argparse.ArgumentParser, *, required: bool, signals: bool = True) -> None:
    if signals:
        _signals_argument(parser, required=required)
    parser.add_argument("--monash-levels", default="country,province", metavar="LEVELS",
                        help=f"Monash aggregation levels, comma-separated from {','.join(LEVELS)} "
                             "(default country,province)")
    parser.add_argument("--merge-by", choices=sorted(GROUPS), default="entity",
                        help="merge detections of the same entity (default) or of the same country")


# --- commands ---------------------------------------------------------------------------------


def run_detect(args: argparse.Namespace) -> int:
    try:
        if args.from_store:
            imported = _from_store(getattr(args, "db", None))
        else:
            imported = _load(args.signals, args.monash_levels)
    except NothingStored as exc:
        print(f"netvigil: {exc}", file=sys.stderr)
        return 1
    except (SignalFormatError, SignalsStoreError, duckdb.Error, OSError) as exc:
        print(f"netvigil: {exc}", file=sys.stderr)
        return 2
    incidents = detect_incidents(imported.points, GROUPS[args.merge_by])
    incidents = [i for i in incidents if i.level >= Level[args.min_level.upper()]]
    out = sys.stdout.buffer
    for incident in incidents:
        out.write(orjson.dumps(incident.to_dict()) + b"\n")
    out.flush()
    if args.store:
        with open_signals_store(getattr(args, "db", None)) as store:
            store.add_points(imported.points)
            store.replace_incidents(incidents)
    return 0 if imported.points else 1


def run_eval_outages(args: argparse.Namespace) -> int:
    try:
        truth = read_truth(args.truth, service_based=args.service_based)
        imported = _load(args.signals, args.monash_levels) if args.signals else None
        incidents = (detect_incidents(imported.points, GROUPS[args.merge_by]) if imported
                     else _read_incidents(args.incidents))
    except (SignalFormatError, OSError, ValueError, KeyError) as exc:
        print(f"netvigil: {exc}", file=sys.stderr)
        return 2
    _report_skipped(truth.skipped, "catalog rows")
    points = imported.points if imported else []
    since = args.since or _first(p.time for p in points) or _first(i.start for i in incidents)
    until = args.until or _last(p.time for p in points) or _last(i.end or i.start for i in incidents)
    if since is None or until is None:
        print("netvigil: no signal and no incident: nothing to evaluate", file=sys.stderr)
        return 1
    countries = (set(args.countries.upper().split(",")) if args.countries
                 else {country_of(p.entity) for p in points} or {country_of(e) for i in incidents for e in i.entities})
    _print_scores(score(incidents, truth.events, since=since, until=until, countries=countries), since, until)
    return 0


def detect_incidents(points: list[SignalPoint], group: Callable[[str], str] = GROUPS["entity"]) -> list[Incident]:
    """Points -> matrices -> detections -> incidents with their likely kind, default detector per signal kind."""
    matrices = to_matrices(points)
    watched = watched_kinds((e, m.meta.kind) for m in matrices for e in m.meta.entities)
    until = max((m.meta.time(m.bins) for m in matrices), default=None)
    return classify(merge_incidents(detect_all(matrices), group, recovery=RECOVERY), watched, until)


# --- helpers ----------------------------------------------------------------------------------


def _load(paths: Iterable[Path], levels: str) -> Imported:
    imported = Imported(points=[])
    for path in paths:
        imported += load_signals(path, monash_levels=[lv.strip() for lv in levels.split(",") if lv.strip()])
    _report_skipped(imported.skipped, "series or rows")
    return imported


class NothingStored(Exception):
    """``--from-store`` found no database, or no analysed measurement in it: nothing to work on."""


def _from_store(db: Path | None) -> Imported:
    """Signals from the stored verdicts: anomaly rate per country+ASN+domain, count per country.

    A missing file is reported rather than created (opening the store would create it).
    """
    path = default_db_path() if db is None else db
    if not path.is_file():
        raise NothingStored(f"no database at {path} (ingest measurements first, or give --db)")
    with open_signals_store(path) as store:
        counts = store.verdict_counts()
    if not counts:
        raise NothingStored(f"{path} holds no analysed measurement to detect on")
    return Imported(points=verdict_points(counts) + measurement_count_points(counts))


def _read_incidents(path: Path) -> list[Incident]:
    incidents = []
    with path.open("rb") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    incidents.append(incident_from_dict(orjson.loads(line)))
                except (orjson.JSONDecodeError, KeyError, ValueError) as exc:
                    raise SignalFormatError(path, n, f"not an incident: {exc}") from exc
    return incidents


def _report_skipped(skipped: tuple[str, ...], what: str, shown: int = 5) -> None:
    if skipped:
        print(f"netvigil: {len(skipped)} {what} left out:", file=sys.stderr)
        for line in skipped[:shown]:
            print(f"  {line}", file=sys.stderr)


def _print_scores(scores: Scores, since: datetime, until: datetime) -> None:
    def fmt(value: float | None, digits: int = 2) -> str:
        return "n/a" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)

    s = scores.summary()
    print(f"window {iso(since)} .. {iso(until)}: {s['incidents']} incidents, {s['events']} catalog events")
    print(f"precision {fmt(s['precision'])}  recall {fmt(s['recall'])}")
    print(f"onset error  median {fmt(s['onset_error_median_h'], 1)} h  mean |e| {fmt(s['onset_error_mean_abs_h'], 1)} h")
    print(f"end error    median {fmt(s['end_error_median_h'], 1)} h  mean |e| {fmt(s['end_error_mean_abs_h'], 1)} h")
    print("per class (catalogue events by scope and cause; false alarms by our scope and kind):")
    for c in per_class(scores):
        kind = f"  kind agrees {c.kind_agrees}/{c.kind_known}" if c.kind_known else ""
        print(f"  {c.name:<34} events {c.events:>4}  recall {fmt(c.recall)}  false alarms {c.false_alarms:>4}{kind}")
    for m in scores.matches:
        end = "n/a" if m.end_error is None else f"{m.end_error.total_seconds() / 3600:+.1f} h"
        print(f"  {m.truth.label or ','.join(m.truth.countries)} {iso(m.truth.start)}: incident {m.incident.entity} "
              f"{iso(m.incident.start)} onset {m.onset_error.total_seconds() / 3600:+.1f} h, end {end}")


def _first(times: Iterable[datetime]) -> datetime | None:
    return min(times, default=None)


def _last(times: Iterable[datetime]) -> datetime | None:
    return max(times, default=None)
