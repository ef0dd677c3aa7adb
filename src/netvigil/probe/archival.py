"""Records -> OONI JSON (df-001 httpt, df-002 dnst, df-005 tcpconnect, df-006
tlshandshake, df-008 netevents), shaped like OONI's v0.5 probe output.

The only module that knows OONI's field names.  Bytes that are valid UTF-8
become strings; anything else becomes ``{"format": "base64", "data": ...}``
(df-001 MaybeBinaryData).  Before a binary body is base64-encoded the
probe's public addresses are removed from it, because the final text-level
scrub (:mod:`scrub`) cannot see inside base64.
"""

from __future__ import annotations

import base64
from typing import Any

from netvigil.probe.records import (
    DNSQueryResult,
    Headers,
    HTTPTransactionResult,
    NetworkEvent,
    TCPConnectResult,
    TLSHandshakeResult,
)
from netvigil.probe.scrub import Scrubber

_NO_TOR = {"exit_ip": None, "exit_name": None, "is_tor": False}


def maybe_binary(data: bytes, scrubber: Scrubber) -> str | dict[str, str]:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return binary(scrubber.scrub_bytes(data))


def binary(data: bytes) -> dict[str, str]:
    return {"data": base64.b64encode(data).decode("ascii"), "format": "base64"}


def _header_value(value: str, scrubber: Scrubber) -> str | dict[str, str]:
    """Header values were decoded with surrogateescape: invalid UTF-8 goes out as base64."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return binary(scrubber.scrub_bytes(value.encode("utf-8", "surrogateescape")))
    return value


def headers_fields(headers: Headers, scrubber: Scrubber) -> dict[str, Any]:
    """``headers`` keeps the first value of each name (df-001); ``headers_list`` keeps all."""
    as_list = [[name, _header_value(value, scrubber)] for name, value in headers]
    first: dict[str, Any] = {}
    for name, value in as_list:
        first.setdefault(name, value)
    return {"headers": first, "headers_list": as_list}


def _envelope(r: Any) -> dict[str, Any]:
    return {"t0": r.t0, "t": r.t, "tags": list(r.tags), "transaction_id": r.transaction_id}


def dns_query(q: DNSQueryResult) -> dict[str, Any]:
    answers = [_answer(a.answer_type, a.value, a.ttl) for a in q.answers]
    out = {
        "answers": answers or None, "engine": q.engine, "failure": q.failure, "hostname": q.hostname,
        "query_type": q.query_type, "resolver_hostname": None, "resolver_port": None,
        "resolver_address": q.resolver_address, **_envelope(q),
    }
    if q.raw_response is not None:
        out["raw_response"] = base64.b64encode(q.raw_response).decode("ascii")
        out["rcode"] = q.rcode
    return out


def _answer(answer_type: str, value: str, ttl: int | None) -> dict[str, Any]:
    key = {"A": "ipv4", "AAAA": "ipv6"}.get(answer_type, "hostname")
    return {"asn": 0, "as_org_name": "", "answer_type": answer_type, key: value, "ttl": ttl}


def tcp_connect(r: TCPConnectResult) -> dict[str, Any]:
    return {"ip": r.ip, "port": r.port, "status": {"failure": r.failure, "success": r.failure is None},
            **_envelope(r)}


def tls_handshake(r: TLSHandshakeResult) -> dict[str, Any]:
    return {
        "network": "tcp", "address": r.address, "cipher_suite": r.cipher_suite, "failure": r.failure,
        "negotiated_protocol": r.negotiated_protocol, "no_tls_verify": False,
        "peer_certificates": [binary(der) for der in r.peer_certificates] or None,
        "server_name": r.server_name, "tls_version": r.tls_version, **_envelope(r),
    }


def http_transaction(r: HTTPTransactionResult, scrubber: Scrubber) -> dict[str, Any]:
    request = {
        "body": maybe_binary(r.request.body, scrubber), "body_is_truncated": False,
        **headers_fields(r.request.headers, scrubber), "method": r.request.method, "tor": dict(_NO_TOR),
        "x_transport": "tcp", "url": r.request.url,
    }
    response: dict[str, Any] = {"body": "", "body_is_truncated": False, "code": 0, "headers_list": [],
                                "headers": {}}
    if r.response is not None:
        response = {"body": maybe_binary(r.response.body, scrubber),
                    "body_is_truncated": r.response.body_is_truncated, "code": r.response.code,
                    **headers_fields(r.response.headers, scrubber)}
    return {"network": "tcp", "address": r.address, "alpn": r.alpn, "failure": r.failure,
            "request": request, "response": response, **_envelope(r)}


def network_event(e: NetworkEvent) -> dict[str, Any]:
    out: dict[str, Any] = {"address": e.address, "failure": e.failure, "operation": e.operation}
    if e.num_bytes is not None:
        out["num_bytes"] = e.num_bytes
    out["proto"] = "tcp"
    out.update(_envelope(e))
    return out
