"""The censor's behaviours on a connection, as small composable parts.

A censor rule is a *trigger* (what it looks for: ``matches(flow)``) and an
*action* (what it does: ``act(link)``), composed, never copied.  Triggers read
a :class:`Flow`, what the middle knows about a connection so far (destination,
then the SNI or Host of the client's first bytes).  Actions act on a
:class:`Link`, the client's side of the connection, and produce exactly the
error a client meets on a real censored network:

===================  ==========================================  ==================
action               what is done                                the client sees
===================  ==========================================  ==================
:class:`Silence`     nothing is sent; input is read and dropped  a timeout
:class:`Refuse`      SOCKS reply "connection refused" (RST/SYN)  connection refused
:class:`Reset`       close with SO_LINGER 0: a TCP RST           connection reset
:class:`Close`       an orderly close: a FIN                     EOF
:class:`InjectPage`  an HTTP response, then a FIN                the censor's page
===================  ==========================================  ==================

:class:`~netvigil.testbed.intercept.Intercept` (TLS with an untrusted
certificate) lives in its own module.  The same action serves several
layers: :class:`Silence` before the SOCKS reply is a blackholed SYN, after a
ClientHello a dropped handshake, after a request a response that never comes.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from dataclasses import dataclass, field
from typing import Protocol as TypingProtocol

from netvigil.testbed.origin import page_response
from netvigil.testbed.scenarios.scenario import Client, Page, domain_matches
from netvigil.testbed.wire import Protocol

SOCKS_SUCCEEDED = 0x00
SOCKS_GENERAL_FAILURE = 0x01
SOCKS_HOST_UNREACHABLE = 0x04
SOCKS_CONNECTION_REFUSED = 0x05
SOCKS_TTL_EXPIRED = 0x06
SOCKS_COMMAND_NOT_SUPPORTED = 0x07
SOCKS_ADDRESS_TYPE_NOT_SUPPORTED = 0x08


@dataclass(slots=True)
class Flow:
    """What the censor knows about one connection so far."""

    client: Client
    ip: str
    port: int
    protocol: Protocol | None = None  # set once the client's first bytes are classified
    name: str | None = None  # the SNI (TLS) or the Host (HTTP) they carry


@dataclass(slots=True)
class Link:
    """The client's side of a proxied connection, and the bytes already read from it."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    flow: Flow
    first: bytes = field(default=b"")

    async def socks_reply(self, code: int, bound: tuple[str, int] = ("0.0.0.0", 0)) -> None:
        address = socket.inet_aton(bound[0])
        self.writer.write(bytes((5, code, 0, 1)) + address + bound[1].to_bytes(2, "big"))
        await self.writer.drain()

    def reset(self) -> None:
        """Abort with SO_LINGER 0, so that the kernel sends a RST instead of a FIN."""
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()

    async def read_until_gone(self) -> None:
        while await self.reader.read(65536):
            pass


class Action(TypingProtocol):
    """What a censor does to a connection; it owns the client's side from then on."""

    async def act(self, link: Link) -> None: ...


class Trigger(TypingProtocol):
    """What a censor looks for in a connection."""

    def matches(self, flow: Flow) -> bool: ...


class Silence:
    """Send nothing and drop whatever the client sends, until it gives up."""

    async def act(self, link: Link) -> None:
        await link.read_until_gone()


class Refuse:
    """Refuse the connection: the SOCKS form of a RST answering the SYN."""

    async def act(self, link: Link) -> None:
        await link.socks_reply(SOCKS_CONNECTION_REFUSED)
        await link.close()


class Reset:
    """Tear the connection down with a RST, as an injected reset does."""

    async def act(self, link: Link) -> None:
        link.reset()


class Close:
    """Close the connection with a FIN, without a word: the client reads EOF."""

    async def act(self, link: Link) -> None:
        await link.close()


@dataclass(frozen=True, slots=True)
class InjectPage:
    """Answer the client's request with ``page`` and close (the in-path blockpage)."""

    page: Page

    async def act(self, link: Link) -> None:
        link.writer.write(page_response(self.page))
        await link.writer.drain()
        await link.close()


@dataclass(frozen=True, slots=True)
class ToAddress:
    """Connections to one of these (advertised) addresses."""

    addresses: frozenset[str]

    def matches(self, flow: Flow) -> bool:
        return flow.ip in self.addresses


@dataclass(frozen=True, slots=True)
class NameIn:
    """Connections whose first bytes are ``protocol`` naming one of ``domains`` (SNI or Host)."""

    protocol: Protocol
    domains: tuple[str, ...]

    def matches(self, flow: Flow) -> bool:
        return (flow.protocol is self.protocol and flow.name is not None
                and any(domain_matches(flow.name, d) for d in self.domains))


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Connections any of ``triggers`` matches."""

    triggers: tuple[Trigger, ...]

    def matches(self, flow: Flow) -> bool:
        return any(t.matches(flow) for t in self.triggers)


@dataclass(frozen=True, slots=True)
class CensorRule:
    """When ``trigger`` matches a connection, ``action`` decides its fate."""

    trigger: Trigger
    action: Action

    def matches(self, flow: Flow) -> bool:
        return self.trigger.matches(flow)


@dataclass(frozen=True, slots=True)
class RateCap:
    """Throttling: matching connections download at most ``bytes_per_second``."""

    trigger: Trigger
    bytes_per_second: int


@dataclass(frozen=True, slots=True)
class StreamPolicy:
    """One client's censor: rules at connect time, rules on the first bytes, rate caps.

    ``cut_off`` (a shutdown covering this client now) silences every connection.
    """

    cut_off: bool = False
    on_connect: tuple[CensorRule, ...] = ()
    on_first_bytes: tuple[CensorRule, ...] = ()
    caps: tuple[RateCap, ...] = ()

    def connect_action(self, flow: Flow) -> Action | None:
        """What to do before the SOCKS reply, or None to go on (dial the destination)."""
        if self.cut_off:
            return Silence()
        return next((r.action for r in self.on_connect if r.matches(flow)), None)

    def first_bytes_action(self, flow: Flow) -> Action | None:
        """What to do once the SNI or Host is known, or None to relay the connection."""
        return next((r.action for r in self.on_first_bytes if r.matches(flow)), None)

    def rate(self, flow: Flow) -> int | None:
        rates = [c.bytes_per_second for c in self.caps if c.trigger.matches(flow)]
        return min(rates) if rates else None


class Pacer:
    """Keeps a byte stream at or below ``bytes_per_second`` on average."""

    def __init__(self, bytes_per_second: int) -> None:
        self.rate = bytes_per_second
        self.chunk = max(1, min(16 * 1024, bytes_per_second // 10))
        self._start = asyncio.get_running_loop().time()
        self._sent = 0

    async def sent(self, count: int) -> None:
        self._sent += count
        ahead = self._sent / self.rate - (asyncio.get_running_loop().time() - self._start)
        if ahead > 0:
            await asyncio.sleep(ahead)
