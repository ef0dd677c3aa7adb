"""The HTTP/1.1 step: one request over an established stream, one record.

The whole exchange (writing the request, then reading status, headers and body)
runs under a single deadline, so a slowloris trickle, an endless stream of
headers or a stalled body all end as ``generic_timeout_error`` with whatever
arrived so far kept in the record (a started-but-stalled body is the throttling
signal).  Each request uses its own connection (``Connection: close``), as every
redirect hop is measured on fresh connections (ts-017 E002).
"""

from __future__ import annotations

import asyncio

from netvigil.probe.conn import Conn
from netvigil.probe.errors import StepError, classify
from netvigil.probe.http1 import Limits, ResponseParser, decode_content
from netvigil.probe.records import Headers, HTTPRequest, HTTPResponse, HTTPTransactionResult
from netvigil.probe.urls import Target

USER_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/122.0.0.0 Safari/537.36")
# What a browser sends, and what OONI forwards to the test helper (ts-017).
BROWSER_HEADERS: Headers = (
    ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("Accept-Language", "en-US,en;q=0.9"),
    ("User-Agent", USER_AGENT),
)


def build_request(target: Target, *, method: str = "GET", headers: Headers = BROWSER_HEADERS,
                  body: bytes = b"") -> HTTPRequest:
    """The request as it goes on the wire; ``Host`` first, framing headers last."""
    wire_headers = [("Host", target.host_header), *headers,
                    ("Accept-Encoding", "gzip"), ("Connection", "close")]
    if body or method == "POST":
        wire_headers.append(("Content-Length", str(len(body))))
    return HTTPRequest(method=method, url=target.url, headers=tuple(wire_headers), body=body)


def encode_request(request: HTTPRequest, target: Target) -> bytes:
    lines = [f"{request.method} {target.request_target} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in request.headers]
    return "\r\n".join(lines).encode("utf-8", "surrogateescape") + b"\r\n\r\n" + request.body


async def http_transaction(conn: Conn, request: HTTPRequest, target: Target, *, limits: Limits,
                           timeout: float, alpn: str = "") -> HTTPTransactionResult:
    """Send ``request`` and read the response within ``timeout``; never raises for the network."""
    trace = conn.trace
    t0 = trace.now()
    parser = ResponseParser(limits, head_request=request.method == "HEAD")
    failure = None
    try:
        async with asyncio.timeout(timeout):
            await conn.write(encode_request(request, target))
            await _read_response(conn, parser)
    except Exception as exc:  # noqa: BLE001 -- the step boundary: classified and recorded
        failure = classify(exc)
    response, decode_failure = _response(parser, limits.max_body_bytes)
    return HTTPTransactionResult(
        address=conn.address, alpn=alpn, request=request, response=response,
        transaction_id=conn.transaction_id, tags=conn.tags, t0=t0, t=trace.now(),
        failure=failure or decode_failure)


async def _read_response(conn: Conn, parser: ResponseParser) -> None:
    while not parser.done:
        data = await conn.read()
        if not data:
            parser.feed_eof()
            return
        parser.feed(data)


def _response(parser: ResponseParser, cap: int) -> tuple[HTTPResponse | None, str | None]:
    if parser.status is None:
        return None, None
    failure = None
    try:
        body, truncated = decode_content(parser.headers, bytes(parser.body), cap)
    except StepError as exc:
        body, truncated, failure = bytes(parser.body), False, exc.failure
    response = HTTPResponse(code=parser.status, headers=tuple(parser.headers), body=body,
                            body_is_truncated=parser.truncated or truncated)
    return response, failure
