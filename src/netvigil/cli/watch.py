"""``netvigil watch``: detection on points as they arrive, alerts to the terminal, a JSONL file and a webhook.

Input is a stream of points, from standard input or a file that may keep growing
(``--follow``): JSON lines ``{"entity", "time", "value", "source"?, "kind"?,
"weight"?}`` or a CSV with the generic ``entity,time,value`` header.  A line that
cannot be read is reported on standard error with its number and the watch goes
on; the exit code is then 2.  A webhook that fails is reported the same way.

Latency is measured in data time, from the onset of a detection to the end of the
bin that made it reportable, and summarised when the stream ends.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from statistics import median
from typing import IO, Any

import orjson

from netvigil.detect.records import SignalKind, SignalPoint
from netvigil.detect.stream import Alert, Watcher
from netvigil.signals.generic_csv import point_from_row

WEBHOOK_TIMEOUT_S = 5.0


def add_watch_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("watch", help="Detect on points as they arrive and raise alerts.",
                                   description="Detect on points as they arrive (standard input or a growing "
                                               "file) and raise alerts to the terminal, a JSONL file and a webhook.")
    parser.add_argument("--input", default="-", metavar="FILE", help="points to read (default: standard input)")
    parser.add_argument("--follow", action="store_true", help="keep reading FILE as it grows")
    parser.add_argument("--poll", type=float, default=1.0, metavar="S", help="--follow poll interval (default 1 s)")
    parser.add_argument("--idle-exit", type=float, default=None, metavar="S",
                        help="with --follow, stop after S seconds without new data (default: never)")
    parser.add_argument("--alerts", type=Path, metavar="FILE", help="append alerts to this JSONL file")
    parser.add_argument("--webhook", metavar="URL", help="POST each alert as JSON to this URL")
    parser.add_argument("--step", type=float, default=None, metavar="S",
                        help="bin size in seconds for every series (default: learned from each series)")
    parser.set_defaults(func=run_watch)


@dataclass
class _Sinks:
    alerts_file: IO[bytes] | None
    webhook: str | None
    failures: int = 0
    latencies: list[tuple[timedelta, timedelta]] = field(default_factory=list)  # (latency, step)

    def emit(self, alert: Alert) -> None:
        doc = alert.to_dict()
        d = alert.detection
        if alert.event == "raised":
            self.latencies.append((alert.latency, d.step))
        print(f"{alert.event.upper():<8} {d.level.name:<8} {d.entity} [{d.source}] onset {doc['start']} "
              f"end {doc['end'] or 'ongoing'} confidence {d.confidence:.2f} latency {doc['latency_bins']:.1f} bins",
              flush=True)
        line = orjson.dumps(doc)
        if self.alerts_file is not None:
            self.alerts_file.write(line + b"\n")
            self.alerts_file.flush()
        if self.webhook:
            self._post(line)

    def _post(self, body: bytes) -> None:
        request = urllib.request.Request(self.webhook or "", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:
                response.read()
        except (urllib.error.URLError, OSError) as exc:
            self.failures += 1
            print(f"netvigil: webhook {self.webhook} failed: {exc}", file=sys.stderr)


def run_watch(args: argparse.Namespace) -> int:
    steps = {kind: timedelta(seconds=args.step) for kind in SignalKind} if args.step else {}
    watcher = Watcher(steps=steps)
    alerts_file = args.alerts.open("ab") if args.alerts else None
    sinks = _Sinks(alerts_file=alerts_file, webhook=args.webhook)
    bad = 0
    try:
        for n, point in _points(_lines(args)):
            if isinstance(point, str):
                bad += 1
                print(f"netvigil: {args.input} line {n}: {point}", file=sys.stderr)
                continue
            for alert in watcher.push(point):
                sinks.emit(alert)
        for alert in watcher.flush():
            sinks.emit(alert)
    finally:
        if alerts_file is not None:
            alerts_file.close()
    _summary(sinks, watcher, bad)
    return 2 if bad or sinks.failures else 0


def _summary(sinks: _Sinks, watcher: Watcher, bad: int) -> None:
    bins = [lat / step for lat, step in sinks.latencies]
    seconds = [lat.total_seconds() for lat, _ in sinks.latencies]
    latency = (f"latency median {median(bins):.1f} bins ({median(seconds):.0f} s), max {max(bins):.1f} bins"
               if bins else "no alert")
    print(f"watch: {len(sinks.latencies)} alerts raised, {len(watcher.ongoing())} still ongoing; {latency}; "
          f"{watcher.late} late points, {bad} unreadable lines, {sinks.failures} webhook failures", file=sys.stderr)


def _lines(args: argparse.Namespace) -> Iterator[str]:
    if args.input == "-":
        yield from sys.stdin
        return
    with open(args.input, encoding="utf-8") as f:
        yield from (_follow(f, args.poll, args.idle_exit) if args.follow else f)


def _follow(f: IO[str], poll: float, idle_exit: float | None) -> Iterator[str]:
    """Lines of a growing file; a line is yielded only once its newline has been written."""
    partial, idle = "", 0.0
    while idle_exit is None or idle < idle_exit:
        chunk = f.readline()
        if not chunk:
            time.sleep(poll)
            idle += poll
            continue
        idle = 0.0
        partial += chunk
        if partial.endswith("\n"):
            yield partial
            partial = ""


def _points(lines: Iterator[str]) -> Iterator[tuple[int, SignalPoint | str]]:
    """(line number, point or the reason it could not be read).

    The first line decides the format: a JSON object starts JSON lines, anything
    else is the header of a CSV.
    """
    header: list[str] | None = None
    json_lines: bool | None = None
    for n, line in enumerate(lines, 1):
        text = line.strip()
        if not text:
            continue
        if json_lines is None:
            json_lines = text.startswith("{")
            if not json_lines:
                header = [h.strip().lower() for h in next(csv.reader([text]))]
                continue
        try:
            row = _json_row(text) if header is None else dict(zip(header, next(csv.reader([text])), strict=True))
            point = point_from_row(row, "stream")
        except (ValueError, TypeError, KeyError) as exc:
            yield n, f"{type(exc).__name__}: {exc}"
            continue
        if point is not None:
            yield n, point


def _json_row(text: str) -> dict[str, str]:
    doc = orjson.loads(text)
    if not isinstance(doc, dict):
        raise TypeError("a point must be a JSON object")
    return {k: "" if v is None else str(v) for k, v in doc.items()}
