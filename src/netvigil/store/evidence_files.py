"""Reading what ``netvigil verify`` is given: an HTML report, an evidence bundle, or measurements.

The kind is told by content, not by name: an HTML file must hold the report's
JSON evidence block; a JSON document with a netvigil ``format`` is a bundle or
a consistency proof; anything else is read as measurements (JSON or JSONL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from netvigil.evidence.records import EvidenceError
from netvigil.store.sources import Quarantined, iter_records

_BLOCK = re.compile(rb'<script type="application/json" id="netvigil-evidence">(.*?)</script>', re.DOTALL)
HTML_SUFFIXES = (".html", ".htm")


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    kind: str                       # "report", "bundle", "consistency" or "measurements"
    document: Any = None            # the parsed JSON of a report's block, bundle or consistency proof
    records: tuple[tuple[str, Any], ...] = ()   # (position, parsed) for measurements
    unreadable: tuple[str, ...] = ()             # why some records could not be read


def read_evidence_file(path: Path) -> EvidenceFile:
    data = path.read_bytes()
    if path.suffix.lower() in HTML_SUFFIXES or data.lstrip()[:15].lower().startswith((b"<!doctype", b"<html")):
        match = _BLOCK.search(data)
        if match is None:
            raise EvidenceError(f"{path} holds no netvigil evidence block: the report cites no logged measurement, "
                                "or was written by a netvigil without transparency logs")
        return EvidenceFile("report", _json(match.group(1), path))
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        document = None
    fmt = document.get("format") if isinstance(document, dict) else None
    if isinstance(fmt, str) and fmt.startswith("netvigil-consistency/"):
        return EvidenceFile("consistency", document)
    if isinstance(fmt, str) and fmt.startswith("netvigil-evidence/"):
        return EvidenceFile("bundle", document)
    records, unreadable = [], []
    for item in iter_records([str(path)]):
        if isinstance(item, Quarantined):
            unreadable.append(f"{item.position}: {item.reason}")
        else:
            records.append((item.position, item.obj if item.obj is not None else orjson.loads(item.data)))
    return EvidenceFile("measurements", records=tuple(records), unreadable=tuple(unreadable))


def _json(text: bytes, path: Path) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise EvidenceError(f"the evidence block of {path} is not valid JSON ({exc}): the file was damaged") from None
