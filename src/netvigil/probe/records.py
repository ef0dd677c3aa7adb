"""One frozen record per network step (the archival unit of df-001/002/005/006/008).

Every record shares the same envelope: ``transaction_id``, ``t0``/``t`` (seconds
since the measurement started), ``tags`` and ``failure`` (``None`` on success,
otherwise a df-007 string).  Bytes stay bytes here; turning them into OONI's
JSON (base64 for binary, header maps and lists) is :mod:`archival`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    transaction_id: int
    t0: float
    t: float
    tags: tuple[str, ...]
    failure: str | None


@dataclass(frozen=True, slots=True)
class DNSAnswer:
    answer_type: str  # "A", "AAAA" or "CNAME"
    value: str        # an address, or the alias target for CNAME
    ttl: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DNSQueryResult(Step):
    hostname: str
    query_type: str              # "A", "AAAA", or "ANY" for getaddrinfo
    engine: str                  # "udp", "getaddrinfo", "doh"
    resolver_address: str
    answers: tuple[DNSAnswer, ...] = ()
    rcode: int | None = None
    raw_response: bytes | None = None

    def addresses(self) -> tuple[str, ...]:
        return tuple(a.value for a in self.answers if a.answer_type in ("A", "AAAA"))


@dataclass(frozen=True, slots=True, kw_only=True)
class TCPConnectResult(Step):
    ip: str
    port: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TLSHandshakeResult(Step):
    address: str
    server_name: str
    cipher_suite: str = ""
    negotiated_protocol: str = ""
    tls_version: str = ""
    peer_certificates: tuple[bytes, ...] = ()  # DER, leaf first


@dataclass(frozen=True, slots=True)
class HTTPRequest:
    method: str
    url: str
    headers: Headers
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class HTTPResponse:
    code: int
    headers: Headers
    body: bytes
    body_is_truncated: bool

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class HTTPTransactionResult(Step):
    address: str
    alpn: str
    request: HTTPRequest
    response: HTTPResponse | None  # None when not even a status line arrived


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkEvent(Step):
    operation: str  # "connect", "read", "write"
    address: str | None = None
    num_bytes: int | None = None
