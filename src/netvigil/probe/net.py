"""How steps reach the network (resolvers, proxy, trust store, timeouts, caps),
and the TCP connect step.

A :class:`Net` is built once from a :class:`ProbeConfig` (the probe) or from the
helper's own options, so probe and helper run the very same steps.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

from netvigil.probe.config import ConfigError, ProbeConfig, join_hostport, parse_hostport, parse_udp_resolver
from netvigil.probe.conn import Conn
from netvigil.probe.errors import classify
from netvigil.probe.records import TCPConnectResult
from netvigil.probe.socks5 import socks5_connect
from netvigil.probe.target_policy import TargetPolicy
from netvigil.probe.tls import client_context
from netvigil.probe.trace import Trace


@dataclass(frozen=True, slots=True, kw_only=True)
class Net:
    udp_resolver: tuple[str, int] | None = None
    use_system_resolver: bool = True
    doh_url: str | None = None
    socks5: tuple[str, int] | None = None
    tls_context: ssl.SSLContext
    connect_timeout: float = 10.0
    tls_timeout: float = 10.0
    http_timeout: float = 15.0
    dns_timeout: float = 5.0
    max_body_bytes: int = 1 << 22
    max_redirects: int = 10
    target_policy: TargetPolicy | None = None  # the helper's: no loopback, private or own addresses

    @classmethod
    def from_config(cls, config: ProbeConfig) -> Net:
        """Raises ConfigError for an unusable resolver or proxy address."""
        if not config.resolver and not config.use_system_resolver:
            raise ConfigError("no resolver: set resolver or use_system_resolver")
        return cls(
            udp_resolver=parse_udp_resolver(config.resolver) if config.resolver else None,
            use_system_resolver=config.use_system_resolver,
            doh_url=config.doh_url,
            socks5=parse_hostport(config.socks5) if config.socks5 else None,
            tls_context=client_context(config.ca_file),
            connect_timeout=config.connect_timeout,
            tls_timeout=config.tls_timeout,
            http_timeout=config.http_timeout,
            dns_timeout=config.dns_timeout,
            max_body_bytes=config.max_body_bytes,
            max_redirects=config.max_redirects,
        )


async def tcp_connect(ip: str, port: int, *, net: Net, trace: Trace, transaction_id: int,
                      tags: tuple[str, ...]) -> tuple[TCPConnectResult, Conn | None]:
    """Connect (through the SOCKS5 proxy when configured); the record plus the open stream."""
    address = join_hostport(ip, port)
    t0 = trace.now()
    refusal = net.target_policy.refusal(ip) if net.target_policy is not None else None
    if refusal is not None:  # decided before any packet: an open and a closed port look the same
        trace.event("connect", t0=t0, transaction_id=transaction_id, tags=tags, address=address,
                    failure=refusal)
        return TCPConnectResult(ip=ip, port=port, transaction_id=transaction_id, t0=t0, t=trace.now(),
                                tags=tags, failure=refusal), None
    try:
        async with asyncio.timeout(net.connect_timeout):
            reader, writer = await _open(ip, port, net.socks5)
    except Exception as exc:  # noqa: BLE001 -- the step boundary: classified and recorded
        failure = classify(exc)
        trace.event("connect", t0=t0, transaction_id=transaction_id, tags=tags, address=address,
                    failure=failure)
        return TCPConnectResult(ip=ip, port=port, transaction_id=transaction_id, t0=t0, t=trace.now(),
                                tags=tags, failure=failure), None
    trace.event("connect", t0=t0, transaction_id=transaction_id, tags=tags, address=address)
    conn = Conn(reader, writer, address=address, trace=trace, transaction_id=transaction_id, tags=tags)
    return TCPConnectResult(ip=ip, port=port, transaction_id=transaction_id, t0=t0, t=trace.now(),
                            tags=tags, failure=None), conn


async def _open(ip: str, port: int, socks5: tuple[str, int] | None):
    if socks5 is None:
        return await asyncio.open_connection(ip, port)
    reader, writer = await asyncio.open_connection(*socks5)
    try:
        await socks5_connect(reader, writer, ip, port)
    except BaseException:
        writer.transport.abort()
        raise
    return reader, writer
