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

import ipaddress
import re
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
    source's priority order is kept and a lookup never has two answers.
    """

    def __init__(self, ranges: Iterable[tuple[int, AsnRange]]) -> None:
        by_version: dict[int, list[AsnRange]] = {4: [], 6: []}
        for version, r in ranges:
            if r.first <= r.last:
                by_version[version].append(r)
        self._starts: dict[int, list[int]] = {}
        self._ranges: dict[int, list[AsnRange]] = {}
        for version, items in by_version.items():
            kept: list[AsnRange] = []
            for r in sorted(items, key=lambda r: r.first):
                if kept and r.first <= kept[-1].last:
                    continue
                kept.append(r)
            self._ranges[version] = kept
            self._starts[version] = [r.first for r in kept]

    def __len__(self) -> int:
        return sum(len(v) for v in self._ranges.values())

    def lookup(self, ip: str) -> AsnInfo:
        parsed = _parse_ip(ip)
        if parsed is None:
            return UNKNOWN
        version, value = parsed
        i = bisect_right(self._starts[version], value) - 1
        if i < 0:
            return UNKNOWN
        r = self._ranges[version][i]
        return AsnInfo(r.asn, r.org) if value <= r.last else UNKNOWN


class ChainLookup:
    """Several sources in priority order: the number from the first that has one,
    the organisation from the first that has one (so a numbers-only and a
    names-only database complete each other).  Results are cached per address."""

    def __init__(self, sources: Sequence[AsnLookup], cache_size: int = 262144) -> None:
        self.sources = tuple(sources)
        self.lookup = lru_cache(maxsize=cache_size)(self._lookup)  # type: ignore[method-assign]

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
    try:
        parsed = ipaddress.ip_address(ip.strip("[]"))
    except ValueError:
        return None
    return parsed.version, int(parsed)


def ip_range(first: str, last: str) -> tuple[int, int, int]:
    """(version, first, last) of an inclusive range given as two addresses; raises ValueError."""
    a, b = ipaddress.ip_address(first), ipaddress.ip_address(last)
    if a.version != b.version:
        raise ValueError(f"range {first}-{last} mixes IPv4 and IPv6")
    return a.version, int(a), int(b)
