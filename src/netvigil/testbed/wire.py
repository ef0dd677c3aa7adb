"""What a censor reads on the wire: the SNI of a ClientHello, the Host of a request.

Both parsers take the bytes a client has sent so far and answer one of three
things: "need more bytes", "this is not my protocol", or the parsed value.  A
censoring middle feeds them until they decide (the GFW and OONI netem likewise
reassemble a ClientHello split over several segments).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

MAX_HEAD = 64 * 1024  # a request head or ClientHello larger than this is not inspected further

_HANDSHAKE = 0x16
_CLIENT_HELLO = 0x01
_EXT_SERVER_NAME = 0x0000
_HTTP_METHODS = (b"GET ", b"HEAD ", b"POST ", b"PUT ", b"DELETE ", b"OPTIONS ", b"PATCH ", b"CONNECT ")


class Protocol(Enum):
    TLS = "tls"
    HTTP = "http"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class FirstFlight:
    """What the client's first bytes are, and the name they carry (SNI or Host), if any."""

    protocol: Protocol
    name: str | None


NEED_MORE = None


def classify(data: bytes) -> FirstFlight | None:
    """Decide on the client's first bytes; None means more bytes are needed."""
    if not data:
        return NEED_MORE
    if data[0] == _HANDSHAKE:
        return _tls(data)
    if any(m.startswith(data[:len(m)]) for m in _HTTP_METHODS):
        return _http(data)
    return FirstFlight(Protocol.OTHER, None)


def _tls(data: bytes) -> FirstFlight | None:
    handshake = bytearray()
    pos = 0
    while True:
        if len(data) < pos + 5:
            return _more_or_give_up(data, Protocol.TLS)
        if data[pos] != _HANDSHAKE:
            return FirstFlight(Protocol.TLS, None)
        length = int.from_bytes(data[pos + 3:pos + 5], "big")
        if len(data) < pos + 5 + length:
            return _more_or_give_up(data, Protocol.TLS)
        handshake += data[pos + 5:pos + 5 + length]
        pos += 5 + length
        if len(handshake) >= 4:
            if handshake[0] != _CLIENT_HELLO:
                return FirstFlight(Protocol.TLS, None)
            body_length = int.from_bytes(handshake[1:4], "big")
            if len(handshake) >= 4 + body_length:
                return FirstFlight(Protocol.TLS, server_name(bytes(handshake[4:4 + body_length])))


def _more_or_give_up(data: bytes, protocol: Protocol) -> FirstFlight | None:
    return NEED_MORE if len(data) < MAX_HEAD else FirstFlight(protocol, None)


def server_name(hello: bytes) -> str | None:
    """The host_name of the server_name extension of a ClientHello body, or None."""
    try:
        pos = 2 + 32  # legacy_version, random
        pos += 1 + hello[pos]  # session id
        pos += 2 + int.from_bytes(hello[pos:pos + 2], "big")  # cipher suites
        pos += 1 + hello[pos]  # compression methods
        end = pos + 2 + int.from_bytes(hello[pos:pos + 2], "big")
        pos += 2
        while pos + 4 <= end:
            kind = int.from_bytes(hello[pos:pos + 2], "big")
            size = int.from_bytes(hello[pos + 2:pos + 4], "big")
            if kind == _EXT_SERVER_NAME:
                return _host_name(hello[pos + 4:pos + 4 + size])
            pos += 4 + size
    except IndexError:
        return None
    return None


def _host_name(ext: bytes) -> str | None:
    pos, end = 2, 2 + int.from_bytes(ext[:2], "big")
    while pos + 3 <= end:
        kind, size = ext[pos], int.from_bytes(ext[pos + 1:pos + 3], "big")
        if kind == 0:
            return ext[pos + 3:pos + 3 + size].decode("ascii", "replace").lower()
        pos += 3 + size
    return None


def _http(data: bytes) -> FirstFlight | None:
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return _more_or_give_up(data, Protocol.HTTP)
    for line in data[:end].split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() == b"host":
            return FirstFlight(Protocol.HTTP, strip_port(value.strip().decode("ascii", "replace")).lower())
    return FirstFlight(Protocol.HTTP, None)


def strip_port(host: str) -> str:
    """``news.example:8080`` -> ``news.example``; ``[::1]:80`` -> ``::1``."""
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
