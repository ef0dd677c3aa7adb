"""IODA API v2 ``/signals/raw/{entityType}/{entityCode}`` JSON exports.

The envelope's ``data`` is a nested list whose innermost items are series objects
with ``entityType``, ``entityCode``, ``datasource``, ``from``, ``step`` and
``values`` (one per step, ``null`` when IODA has no value); research notes §1.6.
Scalar series of the datasources with documented thresholds are imported:
``bgp``, ``ping-slash24``, ``merit-nt`` and ``ucsd-nt``.  Any other series
(``gtr``, ``ping-slash24-loss`` and nested ``agg_values`` series) is skipped and
listed in :attr:`Imported.skipped` with the reason.

Entities: a country is its code (``IR``); an ASN is ``AS<n>``; other types are
``<type>-<code>`` since the series does not name their country.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from netvigil.detect.records import SignalKind, SignalPoint
from netvigil.signals.errors import SignalFormatError
from netvigil.signals.imported import Imported

DATASOURCE_KINDS = {
    "bgp": SignalKind.BGP,
    "ping-slash24": SignalKind.ACTIVE_PROBING,
    "merit-nt": SignalKind.TELESCOPE,
    "ucsd-nt": SignalKind.TELESCOPE,
}


def read_ioda(path: str | Path) -> Imported:
    path = Path(path)
    try:
        doc = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise SignalFormatError(path, exc.lineno, f"invalid JSON: {exc.msg}") from exc
    if not isinstance(doc, dict) or "data" not in doc:
        raise SignalFormatError(path, 0, "not an IODA API envelope (no 'data')")
    if doc.get("error"):
        raise SignalFormatError(path, 0, f"IODA API error: {doc['error']}")
    points: list[SignalPoint] = []
    skipped: list[str] = []
    for n, series in enumerate(_series(doc["data"])):
        try:
            points += _points(series, skipped)
        except (KeyError, TypeError, ValueError) as exc:
            raise SignalFormatError(path, 0, f"series {n}: {exc!r}") from exc
    return Imported(points=points, skipped=tuple(f"{path}: {s}" for s in skipped))


def _series(data: Any) -> list[dict[str, Any]]:
    """The innermost series objects of IODA's nested ``data`` lists."""
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return [s for item in data for s in _series(item)]
    raise TypeError(f"unexpected {type(data).__name__} in 'data'")


def _points(series: dict[str, Any], skipped: list[str]) -> list[SignalPoint]:
    datasource = str(series["datasource"])
    name = f"{series['entityType']}/{series['entityCode']} {datasource}"
    kind = DATASOURCE_KINDS.get(datasource)
    values = series["values"]
    if kind is None:
        skipped.append(f"{name}: no documented thresholds for datasource {datasource!r}")
        return []
    if any(v is not None and not isinstance(v, int | float) for v in values):
        skipped.append(f"{name}: values are not scalar")
        return []
    start = datetime.fromtimestamp(int(series["from"]), UTC)
    step = timedelta(seconds=int(series["step"]))
    entity = _entity(str(series["entityType"]), str(series["entityCode"]))
    return [SignalPoint(entity=entity, source=f"ioda.{datasource}", time=start + i * step, value=float(v),
                        kind=kind) for i, v in enumerate(values) if v is not None]


def _entity(entity_type: str, code: str) -> str:
    if entity_type == "country":
        return code.upper()
    if entity_type == "asn":
        return f"AS{code}"
    return f"{entity_type}-{code}"
