"""The censoring middle: a SOCKS5 proxy that is the probe's whole network.

The probe (or curl) sends every TCP connection through it (RFC 1928, no
authentication, CONNECT to an IP address only: the client resolves names
itself, so the DNS step stays observable).  For each connection it:

1. applies the connect-time rules of the client's :class:`StreamPolicy`
   (shutdown, blackhole, refusal) before answering the SOCKS request;
2. routes the destination through the :class:`AddressPlan` (anything outside
   it is unreachable: the middle never dials a non-testbed address) and dials
   it from its egress address; a refused dial is reported as such;
3. reads the client's first bytes until the SNI or Host is known, and applies
   the first-bytes rules (TLS and HTTP censorship);
4. otherwise relays both ways, capping the download rate when a throttling
   rule matches.

One middle serves one client (vantage point): its policy knows the client's
region and simulated time.  The helper has a middle too, with no censor: it
gives the helper the same routes into the simulated internet.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging

from netvigil.testbed.addressing import AddressPlan
from netvigil.testbed.aio import Supervisor, bind_tcp
from netvigil.testbed.censor import (
    SOCKS_ADDRESS_TYPE_NOT_SUPPORTED,
    SOCKS_COMMAND_NOT_SUPPORTED,
    SOCKS_CONNECTION_REFUSED,
    SOCKS_GENERAL_FAILURE,
    SOCKS_HOST_UNREACHABLE,
    SOCKS_SUCCEEDED,
    SOCKS_TTL_EXPIRED,
    Flow,
    Link,
    Pacer,
    StreamPolicy,
)
from netvigil.testbed.scenarios.scenario import Client
from netvigil.testbed.wire import MAX_HEAD, Protocol, classify

log = logging.getLogger(__name__)

DIAL_TIMEOUT = 5.0
FIRST_BYTES_TIMEOUT = 2.0  # a client that says nothing this long is relayed uninspected
RELAY_CHUNK = 64 * 1024


class Middle:
    """A SOCKS5 listener for one client, dialling from ``egress``.

    ``inside``: whether the client is inside the censored network (probes) or
    outside it (the helper), which decides whether non-routable hosts are reachable.
    """

    def __init__(self, client: Client, policy: StreamPolicy, plan: AddressPlan, supervisor: Supervisor,
                 *, egress: str, inside: bool) -> None:
        self.client = client
        self.policy = policy
        self.plan = plan
        self.supervisor = supervisor
        self.egress = egress
        self.inside = inside
        self.address = ""
        self.port = 0

    async def start(self, address: str) -> Middle:
        sock = bind_tcp(address, 0)
        self.address, self.port = address, sock.getsockname()[1]
        await self.supervisor.serve(self._serve, sock)
        return self

    @property
    def endpoint(self) -> str:
        return f"{self.address}:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        destination = await _socks_request(reader, writer)
        if destination is None:
            return
        link = Link(reader, writer, Flow(self.client, *destination))
        action = self.policy.connect_action(link.flow)
        if action is not None:
            await action.act(link)
            return
        upstream = await self._dial(link)
        if upstream is None:
            return
        up_reader, up_writer = upstream
        try:
            await read_first_bytes(link)
            action = self.policy.first_bytes_action(link.flow)
            if action is not None:
                up_writer.transport.abort()
                await action.act(link)
                return
            up_writer.write(link.first)
            rate = self.policy.rate(link.flow)
            await asyncio.gather(_pump(reader, up_writer, None), _pump(up_reader, writer, rate))
            writer.close()
            await writer.wait_closed()
        finally:
            up_writer.transport.abort()

    async def _dial(self, link: Link) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """Connect to the routed destination, answering the SOCKS request with the outcome."""
        target = self.plan.route(link.flow.ip, link.flow.port, inside=self.inside)
        if target is None:
            await link.socks_reply(SOCKS_HOST_UNREACHABLE)
            return None
        try:
            upstream = await asyncio.wait_for(
                asyncio.open_connection(*target, local_addr=(self.egress, 0)), DIAL_TIMEOUT)
        except TimeoutError:
            await link.socks_reply(SOCKS_TTL_EXPIRED)
            return None
        except OSError as exc:
            refused = exc.errno == errno.ECONNREFUSED
            log.debug("dial %s:%s failed: %s", *target, exc)
            await link.socks_reply(SOCKS_CONNECTION_REFUSED if refused else SOCKS_GENERAL_FAILURE)
            return None
        await link.socks_reply(SOCKS_SUCCEEDED, upstream[1].get_extra_info("sockname")[:2])
        return upstream


async def _socks_request(reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> tuple[str, int] | None:
    """The destination of a SOCKS5 CONNECT, or None after refusing an unsupported request."""
    version, count = await reader.readexactly(2)
    methods = await reader.readexactly(count)
    if version != 5 or 0 not in methods:
        writer.write(b"\x05\xff")  # no acceptable method
        await writer.drain()
        return None
    writer.write(b"\x05\x00")
    await writer.drain()
    version, command, _, kind = await reader.readexactly(4)
    if kind == 1:
        ip = str(ipaddress.IPv4Address(await reader.readexactly(4)))
    elif kind == 4:
        ip = str(ipaddress.IPv6Address(await reader.readexactly(16)))
    else:
        await _refuse(writer, SOCKS_ADDRESS_TYPE_NOT_SUPPORTED)  # names: the client must resolve
        return None
    port = int.from_bytes(await reader.readexactly(2), "big")
    if version != 5 or command != 1:
        await _refuse(writer, SOCKS_COMMAND_NOT_SUPPORTED)
        return None
    return ip, port


async def _refuse(writer: asyncio.StreamWriter, code: int) -> None:
    writer.write(bytes((5, code, 0, 1, 0, 0, 0, 0, 0, 0)))
    await writer.drain()


async def read_first_bytes(link: Link) -> None:
    """Read until the first bytes are classified (TLS/HTTP/other), recording SNI or Host.

    Public because namespace mode's censor responders read a request or a
    ClientHello the same way before they act.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + FIRST_BYTES_TIMEOUT
    data = b""
    while (flight := classify(data)) is None:
        try:
            chunk = await asyncio.wait_for(link.reader.read(MAX_HEAD), max(0.0, deadline - loop.time()))
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
    link.first = data
    if flight is not None:
        link.flow.protocol, link.flow.name = flight.protocol, flight.name
    else:
        link.flow.protocol = Protocol.OTHER


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter, rate: int | None) -> None:
    """Copy ``source`` to ``sink`` until EOF (then half-close), at most ``rate`` bytes/s."""
    pacer = Pacer(rate) if rate else None
    size = pacer.chunk if pacer else RELAY_CHUNK
    try:
        while data := await source.read(size):
            sink.write(data)
            await sink.drain()
            if pacer:
                await pacer.sent(len(data))
        if sink.can_write_eof():
            sink.write_eof()
    except OSError as exc:  # either side went away (reset, or closed before our FIN)
        log.debug("relay ended: %r", exc)
        sink.transport.abort()
