"""Signal importers: files and plain records in, UTC :class:`~netvigil.detect.records.SignalPoint` out.

All file reading for detection lives here, so that ``netvigil.detect`` stays pure.
:func:`load_signals` tells the formats apart by suffix and header, so a generic CSV
needs no flag:

- ``*.csv`` with the Monash IP Observatory header (:mod:`.monash`, local time -> UTC);
- ``*.csv`` with ``entity,time,value`` (:mod:`.generic_csv`);
- ``*.json`` IODA API v2 ``/signals/raw`` exports (:mod:`.ioda`);
- ``*.sql`` OONI pipeline ``analysis_web_measurement`` inserts (:mod:`.ooni_sql`);
- ``*.jsonl`` whose lines are the probe's reachability rounds (:mod:`.rounds`).

Records from netvigil itself (verdict counts, probe rounds) go through
:mod:`.converters`; ground-truth catalogs through :mod:`.truth`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from netvigil.signals.errors import SignalFormatError
from netvigil.signals.generic_csv import is_generic, read_generic_csv
from netvigil.signals.imported import Imported
from netvigil.signals.ioda import read_ioda
from netvigil.signals.monash import is_monash, read_monash
from netvigil.signals.ooni_sql import read_ooni_sql
from netvigil.signals.rounds import first_record, is_rounds, read_rounds

__all__ = ["Imported", "SignalFormatError", "load_signals"]


def load_signals(path: str | Path, *, monash_levels: Iterable[str] = ("country", "province")) -> Imported:
    """Read one signal file of any supported format; raises :class:`SignalFormatError` when it is none."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        return read_ioda(path)
    if suffix == ".sql":
        return read_ooni_sql(path)
    if suffix == ".jsonl":
        if is_rounds(first_record(path)):
            return read_rounds(path)
        raise SignalFormatError(path, 1, "unknown JSONL signal format: expected reachability rounds "
                                         "(entity, time, sent, answered)")
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as f:
            header = [h.strip() for h in next(csv.reader(f), [])]
        if is_monash(header):
            return Imported(points=read_monash(path, levels=monash_levels))
        if is_generic(header):
            return Imported(points=read_generic_csv(path))
        raise SignalFormatError(path, 1, f"unknown CSV signal format: header {header}")
    raise SignalFormatError(path, 0, "unknown signal format: expected .csv, .json (IODA), "
                                     ".sql (OONI analysis) or .jsonl (reachability rounds)")
