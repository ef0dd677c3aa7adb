"""TCP connect (direct and via SOCKS5) and the TLS handshake against loopback servers."""

from __future__ import annotations

import asyncio
import ssl

import pytest
from probe_servers import port_of, refused_port, reset, server_context, start_socks5, start_tcp

from netvigil.probe.endpoint import connect_endpoint
from netvigil.probe.net import Net
from netvigil.probe.tls import client_context
from netvigil.probe.trace import Trace


def _net(ca_file: str | None = None, socks5: tuple[str, int] | None = None) -> Net:
    return Net(tls_context=client_context(ca_file), socks5=socks5, connect_timeout=0.5, tls_timeout=0.5)


async def _hold(reader, writer) -> None:
    await reader.read()  # keep the connection open until the client leaves


async def _rst_now(reader, writer) -> None:
    reset(writer)


async def _rst_after_hello(reader, writer) -> None:
    await reader.read(1)  # the ClientHello has arrived
    reset(writer)


async def _eof_after_hello(reader, writer) -> None:
    await reader.read(65536)  # the whole ClientHello: closing with unread data would send RST


async def _plain_http(reader, writer) -> None:
    await reader.read(65536)
    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    await writer.drain()


async def _connect(port: int, *, server_name: str | None, net: Net, ip: str = "127.0.0.1"):
    trace = Trace()
    connected = await connect_endpoint(ip, port, server_name=server_name, net=net, trace=trace,
                                       tags=("classic", "depth=0", "fetch_body=true"))
    if connected.conn is not None:
        connected.conn.close()
    return connected, trace


def _run_with_server(handler, *, server_name: str | None, ssl_context=None, net: Net | None = None):
    async def scenario():
        server = await start_tcp(handler, ssl_context=ssl_context)
        try:
            return await _connect(port_of(server), server_name=server_name, net=net or _net())
        finally:
            server.close()

    return asyncio.run(scenario())


def test_refused_port() -> None:
    connected, trace = asyncio.run(_connect(refused_port(), server_name=None, net=_net()))
    assert connected.tcp.failure == "connection_refused" and connected.conn is None
    assert not connected.tcp.failure is None
    assert [e.operation for e in trace.events] == ["connect"] and trace.events[0].failure == "connection_refused"


def test_plain_connect_succeeds() -> None:
    connected, trace = _run_with_server(_hold, server_name=None)
    assert connected.failure is None and connected.tls is None
    assert connected.tcp.transaction_id == trace.events[0].transaction_id


@pytest.mark.parametrize(("handler", "expected"), [
    (_rst_now, "connection_reset"),
    (_rst_after_hello, "connection_reset"),
    (_eof_after_hello, "eof_error"),
    (_plain_http, "ssl_failed_handshake"),
    (_hold, "generic_timeout_error"),  # the server never answers the ClientHello
])
def test_tls_handshake_interference(handler, expected: str) -> None:
    connected, _ = _run_with_server(handler, server_name="site.example")
    assert connected.tcp.failure is None
    assert connected.tls is not None and connected.tls.failure == expected
    assert connected.tls.peer_certificates == ()


def test_tls_self_signed_is_unknown_authority(test_ca, cert_dir) -> None:
    context = server_context(test_ca, ["site.example"], cert_dir, self_signed=True)
    connected, _ = _run_with_server(_hold, server_name="site.example", ssl_context=context)
    assert connected.tls.failure == "ssl_unknown_authority"


def test_tls_certificate_for_another_name(test_ca, ca_file, cert_dir) -> None:
    context = server_context(test_ca, ["other.example"], cert_dir)
    connected, _ = _run_with_server(_hold, server_name="site.example", ssl_context=context, net=_net(ca_file))
    assert connected.tls.failure == "ssl_invalid_hostname"


def test_tls_success_records_the_chain(test_ca, ca_file, cert_dir) -> None:
    context = server_context(test_ca, ["site.example"], cert_dir)
    connected, _ = _run_with_server(_hold, server_name="site.example", ssl_context=context, net=_net(ca_file))
    tls = connected.tls
    assert tls.failure is None and tls.tls_version.startswith("TLSv1.")
    assert len(tls.peer_certificates) == 2  # leaf and the test CA, as sent
    assert ssl.DER_cert_to_PEM_cert(tls.peer_certificates[1]).strip() == test_ca.pem().decode().strip()
    assert tls.negotiated_protocol in ("", "http/1.1") and tls.address.endswith(f":{tls.address.split(':')[1]}")


@pytest.mark.parametrize(("code", "expected"), [
    (5, "connection_refused"), (4, "host_unreachable"), (3, "network_unreachable"), (6, "generic_timeout_error"),
    (1, "unknown_failure: socks5: reply code 1"),
])
def test_socks5_reply_codes(code: int, expected: str) -> None:
    async def scenario():
        proxy = await start_socks5(refuse=code)
        try:
            return await _connect(80, server_name=None, net=_net(socks5=("127.0.0.1", port_of(proxy))))
        finally:
            proxy.close()

    connected, _ = asyncio.run(scenario())
    assert connected.tcp.failure == expected


def test_socks5_silent_middle_times_out() -> None:
    async def scenario():
        silent = await start_tcp(_hold)
        try:
            return await _connect(80, server_name=None, net=_net(socks5=("127.0.0.1", port_of(silent))))
        finally:
            silent.close()

    connected, _ = asyncio.run(scenario())
    assert connected.tcp.failure == "generic_timeout_error"


def test_socks5_relays_tls(test_ca, ca_file, cert_dir) -> None:
    async def scenario():
        origin = await start_tcp(_hold, ssl_context=server_context(test_ca, ["site.example"], cert_dir))
        proxy = await start_socks5()
        try:
            return await _connect(port_of(origin), server_name="site.example",
                                  net=_net(ca_file, socks5=("127.0.0.1", port_of(proxy))))
        finally:
            origin.close()
            proxy.close()

    connected, _ = asyncio.run(scenario())
    assert connected.failure is None
