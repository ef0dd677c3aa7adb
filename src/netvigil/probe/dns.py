"""DNS steps: DNS over UDP with our own socket, and the system's getaddrinfo.

The UDP step owns its socket (rather than using a stub resolver library) so that
what a censor does on the wire stays visible: a forged reply with the wrong id,
garbage, truncation, an error rcode or silence each become their own df-007
failure instead of being retried away.  The first datagram decides, as in
OONI's probe.
"""

from __future__ import annotations

import asyncio
import socket

from netvigil.probe.config import join_hostport
from netvigil.probe.dnsmsg import build_query, parse_reply
from netvigil.probe.errors import classify
from netvigil.probe.net import Net
from netvigil.probe.records import DNSAnswer, DNSQueryResult
from netvigil.probe.trace import Trace

QUERY_TYPES = ("A", "AAAA")


class _FirstDatagram(asyncio.DatagramProtocol):
    """Resolves ``reply`` with the first datagram, or with the socket's error (ICMP)."""

    def __init__(self) -> None:
        self.reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: object) -> None:
        if not self.reply.done():
            self.reply.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.reply.done():
            self.reply.set_exception(exc)


async def lookup_udp(hostname: str, server: tuple[str, int], query_type: str, *, trace: Trace,
                     transaction_id: int, tags: tuple[str, ...], timeout: float) -> DNSQueryResult:
    """One query over UDP to ``server``; the reply (raw, base64 in the archive) is kept."""
    t0 = trace.now()
    common = {"hostname": hostname, "query_type": query_type, "engine": "udp",
              "resolver_address": join_hostport(*server), "transaction_id": transaction_id, "tags": tags,
              "t0": t0}
    try:
        query_id, wire = build_query(hostname, query_type)
        reply = await _exchange(wire, server, timeout)
    except Exception as exc:  # noqa: BLE001 -- the step boundary: every failure is recorded, none raised
        return DNSQueryResult(**common, t=trace.now(), failure=classify(exc))
    parsed = parse_reply(reply, query_id=query_id, hostname=hostname, query_type=query_type)
    return DNSQueryResult(**common, t=trace.now(), failure=parsed.failure, answers=parsed.answers,
                          rcode=parsed.rcode, raw_response=reply)


async def _exchange(wire: bytes, server: tuple[str, int], timeout: float) -> bytes:
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(timeout):
        transport, protocol = await loop.create_datagram_endpoint(_FirstDatagram, remote_addr=server)
        try:
            transport.sendto(wire)
            return await protocol.reply
        finally:
            transport.close()


async def resolve_udp(hostname: str, server: tuple[str, int], *, trace: Trace, tags: tuple[str, ...],
                      timeout: float) -> tuple[DNSQueryResult, ...]:
    """A and AAAA in parallel, one transaction (as OONI records a DNS round trip pair)."""
    transaction_id = trace.next_id()
    return tuple(await asyncio.gather(*(
        lookup_udp(hostname, server, qtype, trace=trace, transaction_id=transaction_id, tags=tags,
                   timeout=timeout) for qtype in QUERY_TYPES)))


async def lookup_getaddrinfo(hostname: str, *, trace: Trace, tags: tuple[str, ...],
                             timeout: float) -> DNSQueryResult:
    """The system resolver, recorded as one ``ANY`` query (df-002, engine ``getaddrinfo``)."""
    t0 = trace.now()
    common = {"hostname": hostname, "query_type": "ANY", "engine": "getaddrinfo", "resolver_address": "",
              "transaction_id": trace.next_id(), "tags": tags, "t0": t0}
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            infos = await loop.getaddrinfo(hostname, None, type=socket.SOCK_STREAM)
    except Exception as exc:  # noqa: BLE001 -- the step boundary: classified and recorded
        return DNSQueryResult(**common, t=trace.now(), failure=classify(exc))
    addresses = dict.fromkeys(str(info[4][0]) for info in infos)
    answers = tuple(DNSAnswer("AAAA" if ":" in a else "A", a) for a in addresses)
    return DNSQueryResult(**common, t=trace.now(), failure=None, answers=answers)


async def primary_lookup(host: str, *, net: Net, trace: Trace,
                         tags: tuple[str, ...]) -> tuple[DNSQueryResult, ...]:
    """The resolver whose answers get connected to: the configured UDP server, else getaddrinfo."""
    if net.udp_resolver is not None:
        return await resolve_udp(host, net.udp_resolver, trace=trace, tags=tags, timeout=net.dns_timeout)
    return (await lookup_getaddrinfo(host, trace=trace, tags=tags, timeout=net.dns_timeout),)
