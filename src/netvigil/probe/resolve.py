"""Name resolution for one hop: the primary ("classic") resolver plus side lookups.

The primary resolver is the configured DNS-over-UDP server when there is one,
otherwise the system's getaddrinfo; its answers are what the probe connects to.
Side lookups (getaddrinfo next to a configured resolver, DNS over HTTPS) are
recorded without the ``classic`` tag (ts-017 E003/E004) and serve the analysis
as references only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass

from netvigil.failures import Failure
from netvigil.probe.dns import lookup_getaddrinfo, primary_lookup
from netvigil.probe.doh import resolve_doh
from netvigil.probe.net import Net
from netvigil.probe.records import DNSQueryResult
from netvigil.probe.trace import Trace, tags


# Addresses measured per name, as the helper caps the endpoints it is asked about: one 64 KB reply
# can hold 3,999 A records, and each would cost a connection (two for an http URL).
MAX_ADDRESSES = 64


@dataclass(frozen=True, slots=True)
class Resolution:
    queries: tuple[DNSQueryResult, ...]
    addresses: tuple[str, ...]   # from the primary resolver, A before AAAA, no duplicates, at most 64
    failure: str | None          # set when the primary resolver gave no address
    dropped: int = 0             # addresses beyond MAX_ADDRESSES: recorded in the answers, not measured


async def resolve(host: str, *, depth: int, net: Net, trace: Trace, side_lookups: bool = True) -> Resolution:
    primary = primary_lookup(host, net=net, trace=trace, tags=tags(depth=depth, classic=True))
    side = _side(host, depth=depth, net=net, trace=trace) if side_lookups else []
    results = await asyncio.gather(primary, *side)
    main = results[0]
    queries = tuple(q for group in results for q in group)
    addresses = tuple(dict.fromkeys(a for q in main for a in q.addresses()))
    if addresses:
        return Resolution(queries, addresses[:MAX_ADDRESSES], None, max(0, len(addresses) - MAX_ADDRESSES))
    failure = next((q.failure for q in main if q.failure), Failure.DNS_NO_ANSWER.value)
    return Resolution(queries, (), failure)


def _side(host: str, *, depth: int, net: Net, trace: Trace) -> list[Awaitable[tuple[DNSQueryResult, ...]]]:
    extra = tags(depth=depth, classic=False)
    side: list[Awaitable[tuple[DNSQueryResult, ...]]] = []
    if net.udp_resolver is not None and net.use_system_resolver:
        side.append(_one(lookup_getaddrinfo(host, trace=trace, tags=extra, timeout=net.dns_timeout)))
    if net.doh_url:
        side.append(resolve_doh(host, net.doh_url, net=net, trace=trace, tags=extra))
    return side


async def _one(lookup: Awaitable[DNSQueryResult]) -> tuple[DNSQueryResult, ...]:
    return (await lookup,)
