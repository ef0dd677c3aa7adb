"""Ground-truth catalogs for ``netvigil eval outages``: IODA's investigated outages, Access Now STOP, labelled CSV.

Third-party catalogs are messy (research notes §3.1-§3.2); a row that cannot be
used is reported with its line and reason in :attr:`Truth.skipped`, and left out
of the scoring rather than guessed at.

- IODA (``ioda_investigated_outages_cleaned_phase1+2.csv``): minute times in UTC,
  written either as "Saturday, November 16, 2019, 2:00:00 PM" or "4/3/2020 15:15:00
  PM" (a 24-hour clock with a stray AM/PM); an empty or "N/A" end is open.
- STOP (the ``.parquet`` or its ``.derived.csv``): dates only, so an event spans its
  start day 00:00 UTC up to the day after its end day; rows repeated once per year
  of attribution are counted once.  Service-based shutdowns (a platform blocked,
  the network up) are left out unless ``service_based=True``: connectivity signals
  cannot see them.
- Labelled CSV: ``country`` (or ``entity``), ``start``, ``end`` in ISO 8601, optional ``label``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from netvigil.detect.evaluate import TruthEvent
from netvigil.detect.records import GOVERNMENT_SHUTDOWN, POWER_OR_NATURAL_OUTAGE, country_of
from netvigil.signals.countries import country_codes
from netvigil.signals.errors import SignalFormatError
from netvigil.signals.generic_csv import parse_time

IODA_COLUMNS = ("ID", "Begin time", "End time", "Country")
STOP_COLUMNS = ("start_date", "end_date", "country", "shutdown_extent")
_IODA_LONG = ("%A, %B %d, %Y, %I:%M:%S %p", "%A, %B %d, %Y, %I:%M %p")
_IODA_SHORT = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?\s*(AM|PM)?$")
_OPEN = ("", "n/a")


@dataclass(frozen=True, slots=True)
class Truth:
    events: list[TruthEvent]
    skipped: tuple[str, ...] = ()  # "path:line: reason" for each row left out


def read_truth(path: str | Path, *, service_based: bool = False) -> Truth:
    """Any of the three formats, told apart by suffix and header."""
    path = Path(path)
    if path.suffix == ".parquet":
        return _stop(path, pq.read_table(path).to_pylist(), service_based, first_line=1)
    with path.open(newline="", encoding="utf-8-sig") as f:
        header = [h.strip() for h in next(csv.reader(f), [])]
    rows = _csv_rows(path)
    if set(IODA_COLUMNS) <= set(header):
        return _collect(path, rows, _ioda_event)
    if set(STOP_COLUMNS) <= set(header):
        return _stop(path, [row for _, row in _csv_rows(path)], service_based, first_line=2)
    if {"start", "end"} <= set(header) and ({"country"} & set(header) or {"entity"} & set(header)):
        return _collect(path, rows, _labelled_event)
    raise SignalFormatError(path, 1, f"not a known ground-truth catalog: header {header[:8]}")


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        reader.fieldnames = [h.strip() for h in reader.fieldnames or []]
        for row in reader:
            yield reader.line_num, row


def _collect(path: Path, rows: Iterable[tuple[int, dict[str, Any]]],
             parse: Callable[[dict[str, Any]], TruthEvent]) -> Truth:
    events, skipped = [], []
    for line, row in rows:
        try:
            events.append(parse(row))
        except ValueError as exc:
            skipped.append(f"{path}:{line}: {exc}")
    return Truth(events=events, skipped=tuple(skipped))


def _ioda_event(row: dict[str, str]) -> TruthEvent:
    countries = _countries(row["Country"])
    end_text = (row["End time"] or "").strip()
    scope = (row.get("Scope (based on granularity at which the outage appears in IODA)") or "").strip()
    return TruthEvent(countries=countries, start=parse_ioda_time(row["Begin time"]),
                      end=None if end_text.lower() in _OPEN else parse_ioda_time(end_text),
                      label=f"IODA {row['ID'].strip()} {scope}".strip(), scope=_ioda_scope(scope),
                      cause=IODA_CAUSES.get((row.get("Cause") or "").strip().lower(), ""))


# IODA's "Cause" column as a kind of incident (research notes §3.2); causes that are neither
# (cable cuts, misconfigurations, "Unknown") are left without a class.
IODA_CAUSES = {"government-ordered": GOVERNMENT_SHUTDOWN, "exams": GOVERNMENT_SHUTDOWN,
               "power-outage": POWER_OR_NATURAL_OUTAGE, "weather": POWER_OR_NATURAL_OUTAGE,
               "other-natural-disaster": POWER_OR_NATURAL_OUTAGE, "earthquake": POWER_OR_NATURAL_OUTAGE}


def _ioda_scope(scope: str) -> str:
    """IODA's "Country" / "Region (...)" / "AS (...)" as national / regional / network."""
    head = scope.split("(", 1)[0].strip().lower()
    return {"country": "national", "region": "regional", "as": "network"}.get(head, "")


def parse_ioda_time(text: str) -> datetime:
    # Hand-typed variants seen in the file: "2:30: AM" and "Saturday June 2, 2018".
    text = re.sub(r"^(\w+day) ", r"\1, ", re.sub(r":\s+(AM|PM)$", r" \1", text.strip()))
    for fmt in _IODA_LONG:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    m = _IODA_SHORT.match(text)
    if m is None:
        raise ValueError(f"unreadable time {text!r}")
    month, day, year, hour, minute, second = (int(g or 0) for g in m.groups()[:6])
    if m.group(7) == "PM" and hour < 12:
        hour += 12
    elif m.group(7) == "AM" and hour == 12:
        hour = 0
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _stop(path: Path, rows: list[dict[str, Any]], service_based: bool, first_line: int) -> Truth:
    seen: set[tuple[Any, ...]] = set()
    events, skipped = [], []
    for n, row in enumerate(rows):
        where = f"{path}:{n + first_line}"
        extent = str(row.get("shutdown_extent") or "")
        key = (row.get("country"), str(row.get("start_date")), str(row.get("end_date")), row.get("area_name"))
        if key in seen or (extent == "Service-based" and not service_based):
            continue  # a repeat of an event already counted, or not visible to connectivity signals
        seen.add(key)
        try:
            events.append(_stop_event(row, extent))
        except ValueError as exc:
            skipped.append(f"{where}: {exc}")
    return Truth(events=events, skipped=tuple(skipped))


def _stop_event(row: dict[str, Any], extent: str) -> TruthEvent:
    start = _day(row["start_date"])
    if start is None:
        raise ValueError("no start date")
    end = _day(row.get("end_date"))
    return TruthEvent(countries=_countries(str(row["country"])), start=start,
                      end=None if end is None else end + timedelta(days=1),
                      label=f"STOP {extent} {row.get('area_name') or ''}".strip())


def _day(value: Any) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return datetime.strptime(str(value).strip()[:10], "%Y-%m-%d").replace(tzinfo=UTC)


def _labelled_event(row: dict[str, str]) -> TruthEvent:
    where = row.get("country") or country_of(row.get("entity") or "")
    end = (row.get("end") or "").strip()
    return TruthEvent(countries=_countries(where), start=parse_time(row["start"]),
                      end=parse_time(end) if end else None, label=(row.get("label") or "").strip())


def _countries(field: str) -> tuple[str, ...]:
    codes = country_codes(field)
    if not codes:
        raise ValueError(f"unknown country {field!r}")
    return codes
