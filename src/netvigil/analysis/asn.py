"""IP address -> autonomous system (number and organisation), pure.

DNS consistency compares networks, not only addresses: a CDN hands the probe
and the control different edges of the same network.  This module holds the
records and the lookup the analysis uses; reading a database from disk lives in
``netvigil.store.asn``, which builds these objects.

A lookup may know the number, the organisation, or both: MaxMind GeoLite2-ASN,
IPinfo and RouteViews-derived range files carry both, geoip2fast's bundled data
only the organisation.  ``None`` means "not known", never "no network".
"""

from __future__ import annotations

import re
import socket
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AsnInfo:
    asn: int | None
    org: str | None

    @property
    def known(self) -> bool:
        return bool(self.asn) or bool(self.org)


UNKNOWN = AsnInfo(None, None)


class AsnLookup(Protocol):
    """Anything that maps an address to its network (``UNKNOWN`` when it cannot)."""

    def lookup(self, ip: str) -> AsnInfo: ...


class NoLookup:
    """The lookup when no database is configured: the measurement's own data only."""

    def lookup(self, ip: str) -> AsnInfo:
        return UNKNOWN


@dataclass(frozen=True, slots=True)
class AsnRange:
    first: int  # inclusive, as an integer of its IP version
    last: int  # inclusive
    asn: int | None
    org: str | None


class RangeTable:
    """Sorted, non-overlapping address ranges per IP version; lookups by bisection.

    Ranges that overlap an earlier one are dropped (the first listed wins), so a
    source's priority order is kept and a lookup never has two answers.  Columns
    are flat arrays, not one object per range: a full RouteViews table is half a
    million ranges, and as objects the garbage collector would walk them all
    (0.6 s per full collection, measured) for as long as the process lives.
    """

    def __init__(self, ranges: Iterable[tuple[int, AsnRange]]) -> None:
        by_version: dict[int, list[AsnRange]] = {4: [], 6: []}
        for version, r in ranges:
            if r.first <= r.last:
                by_version[version].append(r)
        self._orgs: list[str | None] = [None]
        org_index: dict[str, int] = {}
        self._columns = {version: self._build(items, org_index) for version, items in by_version.items()}

    def _build(self, items: list[AsnRange], org_index: dict[str, int]) -> _Columns:
        kept: list[AsnRange] = []
        for r in sorted(items, key=lambda r: r.first):
            if kept and r.first <= kept[-1].last:
                continue
            kept.append(r)
        orgs = array("L")
        for r in kept:
            if r.org and r.org not in org_index:
                org_index[r.org] = len(self._orgs)
                self._orgs.append(r.org)
            orgs.append(org_index[r.org] if r.org else 0)
        return _Columns(_ints(r.first for r in kept), _ints(r.last for r in kept),
                        array("L", (r.asn or 0 for r in kept)), orgs)

    def __len__(self) -> int:
        return sum(len(c.asns) for c in self._columns.values())

    def lookup(self, ip: str) -> AsnInfo:
        parsed = _parse_ip(ip)
        if parsed is None:
            return UNKNOWN
        version, value = parsed
        c = self._columns[version]
        i = bisect_right(c.starts, value) - 1
        if i < 0 or value > c.lasts[i]:
            return UNKNOWN
        return AsnInfo(c.asns[i] or None, self._orgs[c.orgs[i]])


@dataclass(frozen=True, slots=True)
class _Columns:
    starts: Sequence[int]
    lasts: Sequence[int]
    asns: array[int]
    orgs: array[int]


def _ints(values: Iterable[int]) -> Sequence[int]:
    """A flat unsigned 64-bit array when every value fits (IPv4), else a list (IPv6)."""
    items = list(values)
    return array("Q", items) if all(v < 2**64 for v in items) else items


class ChainLookup:
    """Several sources in priority order: the number from the first that has one,
    the organisation from the first that has one (so a numbers-only and a
    names-only database complete each other).  Results are cached per address."""

    def __init__(self, sources: Sequence[AsnLookup], cache_size: int = 262144) -> None:
        self.sources = tuple(sources)
        self.lookup = lru_cache(maxsize=cache_size)(self._lookup)

    def _lookup(self, ip: str) -> AsnInfo:
        asn: int | None = None
        org: str | None = None
        for source in self.sources:
            found = source.lookup(ip)
            asn = asn or found.asn or None
            org = org or found.org or None
            if asn and org:
                break
        return AsnInfo(asn, org)


_ORG_NOISE = re.compile(r"[^a-z0-9]+")
_ORG_SUFFIXES = frozenset({"inc", "llc", "ltd", "limited", "corp", "corporation", "co", "bv", "gmbh", "sa",
                           "spa", "srl", "ag", "plc", "as", "asn", "company", "the"})


@lru_cache(maxsize=65536)
def org_key(org: str | None) -> str | None:
    """An organisation name reduced for comparison across databases.

    Case, punctuation and legal-form words are dropped ("Akamai Technologies,
    Inc." and "AKAMAI TECHNOLOGIES INC" compare equal); anything shorter than
    three characters after that is no evidence of identity and gives ``None``.
    """
    if not org:
        return None
    words = [w for w in _ORG_NOISE.split(org.lower()) if w and w not in _ORG_SUFFIXES]
    key = " ".join(words)
    return key if len(key) >= 3 else None


def _parse_ip(ip: str) -> tuple[int, int] | None:
    """(version, integer) of a textual address; ``inet_pton`` is strict and ten times
    faster than ``ipaddress``, which matters when a range file has a million of them."""
    text = ip.strip("[]")
    for family, version in ((socket.AF_INET, 4), (socket.AF_INET6, 6)):
        try:
            return version, int.from_bytes(socket.inet_pton(family, text), "big")
        except (OSError, ValueError):
            continue
    return None


def ip_range(first: str, last: str) -> tuple[int, int, int]:
    """(version, first, last) of an inclusive range given as two addresses; raises ValueError."""
    a, b = _parse_ip(first), _parse_ip(last)
    if a is None or b is None:
        raise ValueError(f"range {first[:45]!r}-{last[:45]!r} is not two IP addresses")
    if a[0] != b[0]:
        raise ValueError(f"range {first}-{last} mixes IPv4 and IPv6")
    return a[0], a[1], b[1]
