"""Opening IP-to-ASN databases: the file edge of ``netvigil.analysis.asn``.

Sources, in the order a user would reach for them:

* a MaxMind GeoLite2-ASN or IPinfo ``.mmdb`` file the user supplies (read with
  ``maxminddb``; both field conventions are understood);
* a range file in the ip-location-db CSV layout (``first,last,asn,org``, addresses
  or integers) such as the RouteViews/RIR/DB-IP-derived ``asn-ipv4.csv`` and
  ``asn-ipv6.csv`` of the npm package ``@ip-location-db/asn``, or an iptoasn.com
  TSV (``first last asn cc description``);
* ``geoip2fast``: the GeoLite2 data bundled with the PyPI package geoip2fast.  It
  carries the organisation and prefix but **not** the AS number, so on its own it
  supports only the organisation comparison.

``$NETVIGIL_ASN_DB`` names the sources (separated by ``os.pathsep``, first wins);
unset means no lookups, so analysis uses only the ASNs the measurement carries.
Rows that cannot be read are skipped and described in ``skipped``, as for
fingerprints: one bad line must not take the analysis down.
"""

from __future__ import annotations

import csv
import gzip
import ipaddress
import os
from collections.abc import Iterator
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any

from netvigil.analysis.asn import UNKNOWN, AsnInfo, AsnLookup, AsnRange, ChainLookup, RangeTable, ip_range

ENV_VAR = "NETVIGIL_ASN_DB"
GEOIP2FAST = "geoip2fast"
_GEOIP2FAST_FILE = "geoip2fast-asn-ipv6.dat.gz"  # IPv4 and IPv6, country + AS name


class AsnDataError(ValueError):
    """A configured ASN source cannot be opened at all."""


class MMDBLookup:
    """A MaxMind-format database: GeoLite2-ASN (``autonomous_system_number`` /
    ``autonomous_system_organization``) or IPinfo (``asn`` "AS123" / ``as_name`` or ``name``)."""

    def __init__(self, path: Path) -> None:
        try:
            import maxminddb
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise AsnDataError("reading .mmdb files needs the 'maxminddb' package "
                               "(pip install 'netvigil[geoip]')") from exc
        try:
            self._reader = maxminddb.open_database(str(path))
        except (OSError, ValueError, RuntimeError) as exc:  # InvalidDatabaseError is a RuntimeError
            raise AsnDataError(f"{path}: not a readable MaxMind database: {exc}") from exc
        self.path = path

    def lookup(self, ip: str) -> AsnInfo:
        try:
            record = self._reader.get(ip.strip("[]"))
        except ValueError:
            return UNKNOWN
        return mmdb_record_info(record)

    def close(self) -> None:
        self._reader.close()


def mmdb_record_info(record: Any) -> AsnInfo:
    """The network in one ``.mmdb`` record, whichever vendor's field names it uses."""
    if not isinstance(record, dict):
        return UNKNOWN
    number = record.get("autonomous_system_number", record.get("asn"))
    org = (record.get("autonomous_system_organization") or record.get("as_name")
           or record.get("name") or record.get("org"))
    return AsnInfo(_asn_number(number), org if isinstance(org, str) and org else None)


class Geoip2fastLookup:
    """Organisation names from geoip2fast's bundled GeoLite2 data (no AS numbers)."""

    def __init__(self) -> None:
        try:
            from geoip2fast import GeoIP2Fast
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise AsnDataError("the 'geoip2fast' package is not installed") from exc
        self._db = GeoIP2Fast(geoip2fast_data_file=_GEOIP2FAST_FILE)

    def lookup(self, ip: str) -> AsnInfo:
        try:
            if not ipaddress.ip_address(ip.strip("[]")).is_global:
                return UNKNOWN  # the data names IANA for every private range
        except ValueError:
            return UNKNOWN
        name = getattr(self._db.lookup(ip.strip("[]")), "asn_name", "")
        return AsnInfo(None, name) if isinstance(name, str) and name and name != "<unknown>" else UNKNOWN


def load_range_file(path: Path, *, skipped: list[str] | None = None) -> RangeTable:
    """An ip-location-db CSV or iptoasn TSV (optionally gzipped) as a :class:`RangeTable`."""
    sink = [] if skipped is None else skipped
    try:
        return RangeTable(_range_rows(path, sink))
    except OSError as exc:
        raise AsnDataError(f"{path}: unreadable: {exc}") from exc


def _range_rows(path: Path, skipped: list[str]) -> Iterator[tuple[int, AsnRange]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:  # type: ignore[operator]
        first = handle.readline()
        tsv = "\t" in first
        numeric_v6 = "ipv6" in path.name.lower()
        rows = csv.reader(chain([first], handle), delimiter="\t" if tsv else ",")
        for line_no, row in enumerate(rows, start=1):
            if not row or (line_no == 1 and _is_header(row)):
                continue
            try:
                yield _range_row(row, tsv, numeric_v6)
            except (ValueError, IndexError) as exc:
                skipped.append(f"{path.name}:{line_no}: {exc}")


def _is_header(row: list[str]) -> bool:
    return not row[0][:1].isdigit() and ":" not in row[0]


def _range_row(row: list[str], tsv: bool, numeric_v6: bool) -> tuple[int, AsnRange]:
    start, end, number = row[0].strip(), row[1].strip(), row[2].strip()
    org = (row[4] if tsv else row[3]).strip() if len(row) > (4 if tsv else 3) else ""
    if start.isdigit() and end.isdigit():
        first, last = int(start), int(end)
        version = 6 if numeric_v6 or last > 0xFFFFFFFF else 4
    else:
        version, first, last = ip_range(start, end)
    asn = _asn_number(number)
    if tsv and org == "Not routed":
        org = ""
    return version, AsnRange(first, last, asn, org or None)


def _asn_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value or None
    if isinstance(value, str):
        digits = value.strip().upper().removeprefix("AS")
        if digits.isdigit():
            return int(digits) or None
        if value.strip():
            raise ValueError(f"AS number {value[:40]!r} is not a number")
    return None


def open_source(spec: str, *, skipped: list[str] | None = None) -> AsnLookup:
    """One source: the word ``geoip2fast``, a ``.mmdb`` file, or a range file."""
    if spec == GEOIP2FAST:
        return Geoip2fastLookup()
    path = Path(spec)
    if not path.is_file():
        raise AsnDataError(f"ASN database {spec!r} does not exist")
    if path.suffix == ".mmdb":
        return MMDBLookup(path)
    return load_range_file(path, skipped=skipped)


def open_asn_lookup(specs: str | list[str], *, skipped: list[str] | None = None) -> ChainLookup:
    """Sources in priority order (a list, or one string separated by ``os.pathsep``)."""
    items = [s for s in (specs.split(os.pathsep) if isinstance(specs, str) else specs) if s.strip()]
    if not items:
        raise AsnDataError("no ASN source given")
    return ChainLookup([open_source(s.strip(), skipped=skipped) for s in items])


@lru_cache(maxsize=8)
def _cached(spec: str) -> ChainLookup:
    return open_asn_lookup(spec)


def default_asn_lookup() -> ChainLookup | None:
    """The lookup ``$NETVIGIL_ASN_DB`` configures (opened once per process), or None."""
    spec = os.environ.get(ENV_VAR, "").strip()
    return _cached(spec) if spec else None
