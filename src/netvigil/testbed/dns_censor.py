"""DNS: the true zone, the censor's answers, and the server that sends them.

A DNS behaviour turns a query into the replies to send, each after a delay:
none (the query is dropped), one (the truth or a lie), or two (a forged answer
immediately, the true one after it: an on-path injector racing the resolver,
as the GFW does; the client keeps the first).  Behaviours are pure, so they are
tested without sockets; :class:`DnsServer` only moves bytes.  Over TCP only the
first reply is sent (a stream carries one answer per query).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from dataclasses import dataclass
from typing import cast

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from netvigil.testbed.aio import PORT_ATTEMPTS, Supervisor, bind_tcp
from netvigil.testbed.scenarios.scenario import domain_matches

log = logging.getLogger(__name__)

TTL = 300
INJECTION_LEAD = 0.05  # seconds between the injected answer and the true one

Reply = tuple[float, dns.message.Message]


@dataclass(frozen=True, slots=True)
class Zone:
    """The truth: domain -> IPv4 address.  Unknown names do not exist (NXDOMAIN)."""

    records: dict[str, str]

    def replies(self, query: dns.message.Message) -> list[Reply]:
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        if name not in self.records:
            return [(0.0, _nxdomain(query))]
        return [(0.0, _answer(query, self.records[name]))]


def _response(query: dns.message.Message) -> dns.message.Message:
    message = dns.message.make_response(query)
    message.flags |= dns.flags.RA
    return message


def _nxdomain(query: dns.message.Message) -> dns.message.Message:
    message = _response(query)
    message.set_rcode(dns.rcode.NXDOMAIN)
    return message


def _answer(query: dns.message.Message, address: str) -> dns.message.Message:
    """An A record for A queries; an empty NOERROR answer (no data) for other types."""
    message = _response(query)
    question = query.question[0]
    if question.rdtype == dns.rdatatype.A:
        rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.A, address)
        message.answer.append(dns.rrset.from_rdata(question.name, TTL, rdata))
    return message


class Nxdomain:
    """Answer "no such name" (rcode 3), like a resolver told to block (jafar's dns-proxy-block)."""

    def replies(self, query: dns.message.Message, zone: Zone) -> list[Reply]:
        return [(0.0, _nxdomain(query))]


class DropQuery:
    """Send nothing: the query is dropped and the client times out (jafar's dns-proxy-ignore)."""

    def replies(self, query: dns.message.Message, zone: Zone) -> list[Reply]:
        return []


@dataclass(frozen=True, slots=True)
class Forge:
    """Answer with ``address`` instead of the truth (a bogon, or a blockpage server's address)."""

    address: str

    def replies(self, query: dns.message.Message, zone: Zone) -> list[Reply]:
        return [(0.0, _answer(query, self.address))]


@dataclass(frozen=True, slots=True)
class Inject:
    """Forge an answer at once and let the truth follow :data:`INJECTION_LEAD` seconds later.

    This is what an on-path injector does: it cannot stop the resolver's answer,
    it only wins the race (OONI netem's DPISpoofDNSResponse forwards the query
    too; GFWatch documents the GFW's forged answers arriving first).
    """

    address: str

    def replies(self, query: dns.message.Message, zone: Zone) -> list[Reply]:
        forged = Forge(self.address).replies(query, zone)
        return forged + [(INJECTION_LEAD, message) for _, message in zone.replies(query)]


DnsBehaviour = Nxdomain | DropQuery | Forge | Inject


@dataclass(frozen=True, slots=True)
class DnsCensorRule:
    """A censor rule: queries for these domains get this behaviour."""

    domains: tuple[str, ...]
    behaviour: DnsBehaviour

    def matches(self, name: str) -> bool:
        return any(domain_matches(name, d) for d in self.domains)


@dataclass(frozen=True, slots=True)
class DnsPolicy:
    """The first matching rule decides; no rule means the truth.  ``cut_off`` drops everything."""

    zone: Zone
    rules: tuple[DnsCensorRule, ...] = ()
    cut_off: bool = False

    def replies(self, wire: bytes) -> list[tuple[float, bytes]]:
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException as exc:
            log.debug("dropping an unparsable DNS query: %s", exc)
            return []
        if self.cut_off or len(query.question) != 1:
            return []
        name = query.question[0].name.to_text(omit_final_dot=True)
        rule = next((r for r in self.rules if r.matches(name)), None)
        replies = rule.behaviour.replies(query, self.zone) if rule else self.zone.replies(query)
        return [(delay, message.to_wire()) for delay, message in replies]


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, policy: DnsPolicy, supervisor: Supervisor) -> None:
        self.policy = policy
        self.supervisor = supervisor
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        replies = self.policy.replies(data)
        if replies:
            self.supervisor.spawn(self._send(replies, addr), f"dns reply to {addr[0]}:{addr[1]}")

    async def _send(self, replies: list[tuple[float, bytes]], addr: tuple[str, int]) -> None:
        for delay, wire in replies:
            if delay:
                await asyncio.sleep(delay)
            assert self.transport is not None
            self.transport.sendto(wire, addr)


def _bind_pair(address: str, port: int = 0) -> tuple[socket.socket, socket.socket]:
    """A TCP and a UDP socket bound to the same port of ``address`` (0: a free one)."""
    for _ in range(PORT_ATTEMPTS):
        tcp = bind_tcp(address, port)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            udp.bind((address, tcp.getsockname()[1]))
            return tcp, udp
        except OSError as exc:
            udp.close()
            tcp.close()
            if exc.errno != errno.EADDRINUSE or port:
                raise
    raise OSError(errno.EADDRINUSE, f"no port of {address} is free for both TCP and UDP")


class DnsServer:
    """One DNS server on ``address`` (UDP and TCP on the same port)."""

    def __init__(self, policy: DnsPolicy, supervisor: Supervisor) -> None:
        self.policy = policy
        self.supervisor = supervisor
        self.address = ""
        self.port = 0

    async def start(self, address: str, port: int = 0) -> DnsServer:
        """Serve on ``address:port``; 0 picks a free port (loopback), namespace mode uses 53."""
        tcp, udp = _bind_pair(address, port)
        self.supervisor.reserve(tcp)
        self.supervisor.reserve(udp)
        self.address, self.port = address, tcp.getsockname()[1]
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: _Udp(self.policy, self.supervisor), sock=udp)
        self.supervisor.keep(transport)
        await self.supervisor.serve(self._tcp, tcp)
        return self

    @property
    def url(self) -> str:
        return f"udp://{self.address}:{self.port}"

    async def _tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                size = int.from_bytes(await reader.readexactly(2), "big")
            except asyncio.IncompleteReadError:
                return  # the client closed between queries
            replies = self.policy.replies(await reader.readexactly(size))
            if not replies:
                await reader.read()  # dropped: say nothing until the client gives up
                return
            wire = replies[0][1]
            writer.write(len(wire).to_bytes(2, "big") + wire)
            await writer.drain()
