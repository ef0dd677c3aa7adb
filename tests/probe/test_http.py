"""The HTTP/1.1 step against hostile loopback servers, and the parser on arbitrary bytes."""

from __future__ import annotations

import asyncio
import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from probe_servers import http_response, page, port_of, read_head, reset, serve_bytes, start_tcp

from netvigil.probe.endpoint import connect_endpoint
from netvigil.probe.errors import StepError
from netvigil.probe.http import build_request, http_transaction
from netvigil.probe.http1 import Limits, ResponseParser
from netvigil.probe.net import Net
from netvigil.probe.tls import client_context
from netvigil.probe.trace import Trace
from netvigil.probe.urls import parse_target

CAP = 64 * 1024
TIMEOUT = 0.6


async def _slowloris(reader, writer) -> None:
    await read_head(reader)
    for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello":
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(0.05)


async def _endless_headers(reader, writer) -> None:
    await read_head(reader)
    writer.write(b"HTTP/1.1 200 OK\r\n")
    for i in range(10_000):
        writer.write(f"X-Tarpit-{i}: {'a' * 20}\r\n".encode())
        await writer.drain()
        await asyncio.sleep(0.01)


async def _stalled_body(reader, writer) -> None:
    await read_head(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
    await writer.drain()
    await asyncio.sleep(5)


async def _huge_body(reader, writer) -> None:
    await read_head(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
    for _ in range(100):  # 10 MB, read until close
        writer.write(b"y" * 100_000)
        await writer.drain()


async def _reset_after_request(reader, writer) -> None:
    await read_head(reader)
    reset(writer)


async def _close_after_request(reader, writer) -> None:
    await read_head(reader)


CHUNKED = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n")
HUGE_HEAD = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(2000)) + b"\r\n"
GZIPPED = http_response(gzip.compress(b"<title>Zipped</title>" * 100), headers=("Content-Encoding: gzip",))

# (scenario, server behaviour, expected failure, expected status code or None)
SCENARIOS = [
    ("ok", serve_bytes(http_response(page("Fine"))), None, 200),
    ("chunked", serve_bytes(CHUNKED), None, 200),
    ("read-until-close", serve_bytes(b"HTTP/1.1 200 OK\r\n\r\nuntil close"), None, 200),
    ("gzip", serve_bytes(GZIPPED), None, 200),
    ("no-body-204", serve_bytes(b"HTTP/1.1 204 No Content\r\n\r\n"), None, 204),
    ("huge body", _huge_body, None, 200),
    ("slowloris", _slowloris, "generic_timeout_error", None),
    ("endless headers", _endless_headers, "generic_timeout_error", None),
    ("huge headers", serve_bytes(HUGE_HEAD), "unknown_failure: HTTP response headers exceed the limit", None),
    ("stalled body", _stalled_body, "generic_timeout_error", 200),
    ("short body", serve_bytes(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), "eof_error", 200),
    ("reset", _reset_after_request, "connection_reset", None),
    ("eof", _close_after_request, "eof_error", None),
    ("garbage", serve_bytes(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"), "unknown_failure: malformed HTTP response", None),
    ("bad chunk", serve_bytes(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
     "unknown_failure: malformed chunked encoding", 200),
    ("bad gzip", serve_bytes(http_response(b"not gzip", headers=("Content-Encoding: gzip",))),
     "unknown_failure: malformed gzip content encoding", 200),
]


async def fetch_once(handler):
    server = await start_tcp(handler)
    try:
        net = Net(tls_context=client_context(None), connect_timeout=1.0)
        connected = await connect_endpoint("127.0.0.1", port_of(server), server_name=None, net=net,
                                           trace=Trace(), tags=("classic", "depth=0", "fetch_body=true"))
        target = parse_target(f"http://site.example:{port_of(server)}/path?q=1")
        try:
            return await http_transaction(connected.conn, build_request(target), target,
                                          limits=Limits(max_body_bytes=CAP), timeout=TIMEOUT)
        finally:
            connected.conn.close()
    finally:
        server.close()


@pytest.mark.parametrize(("name", "handler", "failure", "code"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_http_scenarios(name: str, handler, failure: str | None, code: int | None) -> None:
    result = asyncio.run(fetch_once(handler))
    assert result.failure == failure
    assert (result.response.code if result.response else None) == code
    assert result.t - result.t0 < TIMEOUT + 0.5  # never a hang
    assert result.request.headers[0] == ("Host", f"site.example:{result.address.rsplit(':', 1)[1]}")


def test_bodies() -> None:
    chunked = asyncio.run(fetch_once(serve_bytes(CHUNKED))).response
    assert chunked.body == b"hello, world"
    huge = asyncio.run(fetch_once(_huge_body))
    assert huge.response.body_is_truncated and len(huge.response.body) == CAP
    stalled = asyncio.run(fetch_once(_stalled_body))
    assert stalled.response.body == b"x" * 1000  # what arrived before the deadline is kept
    assert asyncio.run(fetch_once(serve_bytes(GZIPPED))).response.body.startswith(b"<title>Zipped</title>")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=8), st.booleans())
def test_response_parser_never_raises_unexpectedly(chunks: list[bytes], eof: bool) -> None:
    parser = ResponseParser(Limits(max_body_bytes=1000, max_head_bytes=2000, max_headers=20))
    try:
        for chunk in chunks:
            parser.feed(chunk)
        if eof:
            parser.feed_eof()
    except StepError as exc:
        assert exc.failure == "eof_error" or exc.failure.startswith("unknown_failure: ")
    assert len(parser.body) <= 1000


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.integers(1, 50))
def test_response_parser_on_structured_noise(tail: bytes, split: int) -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + tail
    parser = ResponseParser(Limits(max_body_bytes=100))
    try:
        for i in range(0, len(data), split):
            parser.feed(data[i:i + split])
        parser.feed_eof()
    except StepError as exc:
        assert exc.failure == "eof_error" or exc.failure.startswith("unknown_failure: ")
