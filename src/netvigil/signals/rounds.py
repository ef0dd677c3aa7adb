"""The probe's reachability rounds (``netvigil reachability`` JSONL) as a reachability signal.

Each line is one round towards one entity: ``{"entity", "time", "sent", "answered",
"failures"}``; the share answered, weighted by probes sent, becomes a
:attr:`~netvigil.detect.records.SignalKind.REACHABILITY` point
(:func:`~netvigil.signals.converters.reachability_points`), which the Bayesian
belief detector judges.  ``failures`` is for people reading the file; the
detector needs only the counts.

The prober labels each round with the start of its schedule slot (a UTC multiple
of its interval, :class:`netvigil.probe.reachability.Schedule`), not with the
jittered moment its probes went out, so the times are regular and the detector's
grid (step = the most common gap) fits them without any resampling here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from netvigil.detect.records import SignalPoint
from netvigil.signals.converters import ReachabilityRound, reachability_points
from netvigil.signals.errors import SignalFormatError
from netvigil.signals.generic_csv import parse_time
from netvigil.signals.imported import Imported

FIELDS = frozenset({"entity", "time", "sent", "answered"})


def is_rounds(record: Any) -> bool:
    """Does this decoded JSON line look like a reachability round?"""
    return isinstance(record, dict) and FIELDS <= record.keys()


def first_record(path: Path) -> Any:
    """The first non-blank line of a JSONL file, decoded (None when the file has none)."""
    for _, record in _records(path):
        return record
    return None


def read_rounds(path: str | Path) -> Imported:
    """Every round of the file as a point; a malformed line stops the import with its line number."""
    path = Path(path)
    points: list[SignalPoint] = []
    for n, record in _records(path):
        one = _round(path, n, record)
        try:
            points += reachability_points([one])
        except ValueError as exc:  # answered outside 0..sent
            raise SignalFormatError(path, n, str(exc)) from exc
    return Imported(points=points)


def _records(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open("rb") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield n, orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    raise SignalFormatError(path, n, f"not JSON: {exc}") from exc


def _round(path: Path, n: int, record: Any) -> ReachabilityRound:
    if not is_rounds(record):
        raise SignalFormatError(path, n, f"a reachability round needs {sorted(FIELDS)}")
    try:
        entity = str(record["entity"]).strip()
        if not entity:
            raise ValueError("empty entity")
        return ReachabilityRound(entity=entity, time=parse_time(str(record["time"])),
                                 sent=_count(record["sent"]), answered=_count(record["answered"]))
    except (ValueError, TypeError) as exc:
        raise SignalFormatError(path, n, str(exc)) from exc


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{value!r} is not a count")
    return value

