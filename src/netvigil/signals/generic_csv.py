"""A generic CSV of signal points: ``entity,time,value`` and optionally ``source``, ``kind``, ``weight``.

``time`` is ISO 8601 (``2024-05-01T10:00:00Z``, an offset, or no zone meaning UTC)
or epoch seconds.  ``kind`` is a :class:`~netvigil.detect.records.SignalKind` value
(default ``active-probing``: IODA's probing thresholds, 80 % / 50 % of a 7-day
median); ``source`` defaults to the file name.  An empty ``value`` is a missing
point and yields nothing: it is not a zero.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from netvigil.detect.records import SignalKind, SignalPoint
from netvigil.signals.errors import SignalFormatError

REQUIRED = ("entity", "time", "value")
OPTIONAL = ("source", "kind", "weight")


def is_generic(header: list[str]) -> bool:
    names = {h.strip().lower() for h in header}
    return set(REQUIRED) <= names <= set(REQUIRED + OPTIONAL)


def read_generic_csv(path: str | Path, *, kind: SignalKind = SignalKind.ACTIVE_PROBING) -> list[SignalPoint]:
    path = Path(path)
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = [h.strip().lower() for h in next(reader, [])]
        if not is_generic(header):
            raise SignalFormatError(path, 1, f"expected columns {REQUIRED} (+ {OPTIONAL}), got {header}")
        points = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # a blank line is not a record
            try:
                point = point_from_row(dict(zip(header, row, strict=True)), path.stem, kind)
            except ValueError as exc:
                raise SignalFormatError(path, reader.line_num, str(exc)) from exc
            if point is not None:
                points.append(point)
    return points


def point_from_row(row: dict[str, str], default_source: str,
                   default_kind: SignalKind = SignalKind.ACTIVE_PROBING) -> SignalPoint | None:
    """One row (column name -> text) as a point; None for an empty value (a missing point)."""
    entity = row["entity"].strip()
    if not entity:
        raise ValueError("empty entity")
    if not row["value"].strip():
        return None
    return SignalPoint(entity=entity, source=row.get("source", "").strip() or default_source,
                       time=parse_time(row["time"]), value=float(row["value"]),
                       kind=SignalKind(row.get("kind", "").strip() or default_kind),
                       weight=float(row.get("weight", "").strip() or 1.0))


def parse_time(text: str) -> datetime:
    """ISO 8601 (naive means UTC) or epoch seconds, as an aware UTC datetime."""
    text = text.strip()
    if text.lstrip("-").replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(text), UTC)
    t = datetime.fromisoformat(text)
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
