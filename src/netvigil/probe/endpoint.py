"""TCP connect, then (optionally) the TLS handshake: one endpoint, one transaction."""

from __future__ import annotations

from dataclasses import dataclass

from netvigil.probe.conn import Conn
from netvigil.probe.net import Net, tcp_connect
from netvigil.probe.records import TCPConnectResult, TLSHandshakeResult
from netvigil.probe.tls import tls_handshake
from netvigil.probe.trace import Trace


@dataclass(frozen=True, slots=True)
class Connected:
    tcp: TCPConnectResult
    tls: TLSHandshakeResult | None
    conn: Conn | None  # open only when every step succeeded; the caller closes it

    @property
    def failure(self) -> str | None:
        return self.tcp.failure or (self.tls.failure if self.tls else None)


async def connect_endpoint(ip: str, port: int, *, server_name: str | None, net: Net, trace: Trace,
                           tags: tuple[str, ...]) -> Connected:
    """``server_name=None`` means plain TCP; otherwise a verified TLS handshake with that SNI."""
    tcp, conn = await tcp_connect(ip, port, net=net, trace=trace, transaction_id=trace.next_id(), tags=tags)
    if conn is None or server_name is None:
        return Connected(tcp, None, conn)
    tls = await tls_handshake(conn, server_name, context=net.tls_context, timeout=net.tls_timeout)
    if tls.failure is not None:
        conn.close()
        return Connected(tcp, tls, None)
    return Connected(tcp, tls, conn)
