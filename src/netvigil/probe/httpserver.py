"""A minimal asyncio HTTP/1.1 server for the helper: one request per connection.

Small on purpose (the helper needs POST / with a JSON body and nothing else),
and strict, because it faces the internet: the head is capped by the stream
limit (431), the body must have a Content-Length within ``max_body`` (411/413),
and a client that does not finish its request within ``request_timeout`` is
dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import orjson

log = logging.getLogger(__name__)
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            411: "Length Required", 413: "Content Too Large", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 501: "Not Implemented"}


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names, last value wins
    body: bytes
    peer_ip: str


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = field(default=())

    @classmethod
    def json(cls, status: int, obj: object, headers: tuple[tuple[str, str], ...] = ()) -> Response:
        return cls(status, orjson.dumps(obj), (("Content-Type", "application/json"), *headers))


class HTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class ServerLimits:
    max_head: int = 16 * 1024
    max_body: int = 64 * 1024
    request_timeout: float = 10.0


async def serve(handler: Handler, host: str, port: int,
                limits: ServerLimits = ServerLimits()) -> asyncio.Server:
    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _connection(reader, writer, handler, limits)

    return await asyncio.start_server(on_connection, host, port, limit=limits.max_head)


async def _connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handler: Handler,
                      limits: ServerLimits) -> None:
    peer = writer.get_extra_info("peername")
    peer_ip = str(peer[0]) if peer else ""
    try:
        try:
            async with asyncio.timeout(limits.request_timeout):
                request = await _read_request(reader, peer_ip, limits)
        except HTTPError as exc:
            response = Response.json(exc.status, {"error": str(exc)})
        else:
            response = await handler(request)
        writer.write(_encode(response))
        await writer.drain()
    except (TimeoutError, asyncio.IncompleteReadError, ConnectionError) as exc:
        log.debug("dropped client %s: %r", peer_ip, exc)  # slow, truncated or vanished client
    finally:
        writer.close()


async def _read_request(reader: asyncio.StreamReader, peer_ip: str, limits: ServerLimits) -> Request:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise HTTPError(431, "request head too large") from None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HTTPError(400, "malformed request line")
    headers = {}
    for line in lines[1:]:
        if line:
            name, sep, value = line.partition(":")
            if not sep:
                raise HTTPError(400, "malformed header line")
            headers[name.strip().lower()] = value.strip()
    body = await _read_body(reader, parts[0], headers, limits)
    return Request(parts[0], parts[1], headers, body, peer_ip)


async def _read_body(reader: asyncio.StreamReader, method: str, headers: dict[str, str],
                     limits: ServerLimits) -> bytes:
    if "transfer-encoding" in headers:
        raise HTTPError(501, "chunked request bodies are not supported; send Content-Length")
    length = headers.get("content-length")
    if length is None:
        if method == "POST":
            raise HTTPError(411, "Content-Length required")
        return b""
    if not length.isdigit():
        raise HTTPError(400, "malformed Content-Length")
    if int(length) > limits.max_body:
        raise HTTPError(413, f"request body over {limits.max_body} bytes")
    return await reader.readexactly(int(length))


def _encode(response: Response) -> bytes:
    lines = [f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Unknown')}",
             *(f"{k}: {v}" for k, v in response.headers),
             f"Content-Length: {len(response.body)}", "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body
