"""Typed view of web_connectivity ``test_keys`` (ts-017, versions 0.2 to 0.5).

Each sub-format of the spec (df-002 DNS, df-005 TCP, df-006 TLS, df-001 HTTP,
df-008 network events, and the test helper's control) becomes a frozen record.
Parsing is lenient towards the many probe generations in OONI's archive (missing
keys, ``null`` lists, legacy failure names) and strict about types: a field of the
wrong JSON type raises :class:`BadRecord` rather than being guessed at.

Two conventions matter downstream:

* ``depth`` is the redirect hop a record belongs to.  v0.5 probes tag records with
  ``depth=N``; older probes only measured hop 0 for DNS/TCP, and their
  ``requests`` list is time-reversed, so hop numbers come from its order.
* ``classic`` marks data from the probe's own system resolver and web fetch, as
  opposed to v0.5 extension data (DoH, DNS over UDP, extra handshakes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from netvigil.failures import normalize_failure
from netvigil.model.body import body_length, body_text, decode_body, decode_headers
from netvigil.model.errors import BadRecord

SYSTEM_ENGINES = frozenset({"system", "getaddrinfo", "golang_net_resolver", "go", ""})
_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_TITLE_SCAN = 65536


@dataclass(frozen=True, slots=True)
class DNSAnswer:
    answer_type: str
    value: str
    asn: int | None = None
    as_org_name: str | None = None


@dataclass(frozen=True, slots=True)
class DNSQuery:
    hostname: str
    query_type: str
    engine: str
    resolver_address: str
    failure: str | None
    answers: tuple[DNSAnswer, ...]
    depth: int
    classic: bool
    transaction_id: int | None = None

    @property
    def is_system(self) -> bool:
        return self.engine in SYSTEM_ENGINES

    def addresses(self) -> tuple[str, ...]:
        return tuple(a.value for a in self.answers if a.answer_type in ("A", "AAAA"))


@dataclass(frozen=True, slots=True)
class TCPConnect:
    ip: str
    port: int
    success: bool
    failure: str | None
    depth: int
    classic: bool
    transaction_id: int | None = None
    fetch_body: bool = True

    @property
    def endpoint(self) -> str:
        return join_endpoint(self.ip, self.port)


@dataclass(frozen=True, slots=True)
class TLSHandshake:
    address: str
    server_name: str
    failure: str | None
    no_tls_verify: bool
    certificates: int
    depth: int
    classic: bool
    transaction_id: int | None = None


@dataclass(frozen=True, slots=True)
class HTTPTransaction:
    url: str
    method: str
    failure: str | None
    status_code: int | None
    headers: tuple[tuple[str, str], ...]
    body: str | bytes | None
    body_is_truncated: bool
    depth: int
    classic: bool
    address: str | None = None
    transaction_id: int | None = None

    @property
    def body_length(self) -> int | None:
        return body_length(self.body)

    @property
    def title(self) -> str:
        match = _TITLE_RE.search(body_text(self.body)[:_TITLE_SCAN])
        return match.group(1).strip() if match else ""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class NetworkEvent:
    operation: str
    address: str | None
    failure: str | None
    num_bytes: int | None
    t: float | None
    transaction_id: int | None = None


@dataclass(frozen=True, slots=True)
class ControlStep:
    """The helper's result for one endpoint (TCP connect or TLS handshake)."""

    success: bool
    failure: str | None
    server_name: str | None = None


@dataclass(frozen=True, slots=True)
class ControlHTTP:
    failure: str | None
    status_code: int | None
    body_length: int | None
    title: str
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Control:
    """What the test helper saw from an unfiltered vantage point (ts-017 §control)."""

    dns_failure: str | None
    dns_addrs: tuple[str, ...]
    dns_measured: bool
    tcp: dict[str, ControlStep] = field(default_factory=dict)
    tls: dict[str, ControlStep] = field(default_factory=dict)
    http: ControlHTTP | None = None
    ip_asn: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WebConnectivityKeys:
    queries: tuple[DNSQuery, ...]
    tcp_connect: tuple[TCPConnect, ...]
    tls_handshakes: tuple[TLSHandshake, ...]
    requests: tuple[HTTPTransaction, ...]  # chronological: requests[-1] is the final one
    network_events: tuple[NetworkEvent, ...]
    control: Control | None
    control_failure: str | None
    probe_blocking: Any = None
    probe_accessible: Any = None


def parse_web_connectivity(tk: dict[str, Any]) -> WebConnectivityKeys:
    """Parse web_connectivity test keys into typed records (raises BadRecord)."""
    requests = _list(tk, "requests")
    parsed_requests = [_http(r, index) for index, r in enumerate(reversed(requests))]
    return WebConnectivityKeys(
        queries=tuple(_dns(q) for q in _list(tk, "queries")),
        tcp_connect=tuple(t for t in (_tcp(x) for x in _list(tk, "tcp_connect")) if t),
        tls_handshakes=tuple(_tls(x) for x in _list(tk, "tls_handshakes")),
        requests=tuple(parsed_requests),
        network_events=tuple(_event(x) for x in _list(tk, "network_events")),
        control=_control(tk.get("control")),
        control_failure=normalize_failure(tk.get("control_failure")),
        probe_blocking=tk.get("blocking"),
        probe_accessible=tk.get("accessible"),
    )


def join_endpoint(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def split_endpoint(endpoint: str) -> tuple[str, int | None]:
    host, sep, port = endpoint.rpartition(":")
    if not sep:
        return endpoint, None
    host = host.strip("[]")
    return host, int(port) if port.isdigit() else None


# --- sub-format parsers --------------------------------------------------------------


def _list(obj: dict[str, Any], key: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRecord(f"test_keys.{key} is a JSON {type(value).__name__}, not a list")
    return value


def _seq(value: Any, where: str) -> list[Any]:
    """A JSON list where the format has one; ``null`` counts as empty."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRecord(f"{where} is a JSON {type(value).__name__}, not a list")
    return value


def _map(value: Any, where: str) -> dict[str, Any]:
    """A JSON object where the format has one; ``null`` counts as empty."""
    if value is None:
        return {}
    return _obj(value, where)


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRecord(f"{where} is a JSON {type(value).__name__}, not an object")
    return value


def _tags(obj: dict[str, Any]) -> tuple[int | None, bool]:
    tags = obj.get("tags")
    if not isinstance(tags, list) or not tags:
        return None, True
    depth = None
    for tag in tags:
        if isinstance(tag, str) and tag.startswith("depth="):
            depth = _bounded(_int(tag[6:]), MAX_DEPTH, "tags.depth")
    return depth, "classic" in tags


def _fetch_body(obj: dict[str, Any]) -> bool:
    """False for v0.5 side checks (e.g. a TLS handshake on 443 for an http:// URL)."""
    tags = obj.get("tags")
    return not (isinstance(tags, list) and "fetch_body=false" in tags)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


# A redirect chain is at most a few dozen hops; a depth beyond this is not a measurement's.
MAX_DEPTH = 2 ** 31 - 1
MAX_PORT = 65535


def _bounded(value: int | None, highest: int, what: str) -> int | None:
    """``value`` if it is in 0..highest; a number outside is the record's fault, never the batch's."""
    if value is not None and not 0 <= value <= highest:
        raise BadRecord(f"number out of range: {what} = {str(value)[:40]} is outside 0..{highest}",
                        category="number out of range")
    return value


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dns(raw: Any) -> DNSQuery:
    q = _obj(raw, "a DNS query")
    depth, classic = _tags(q)
    answers = []
    for a in _seq(q.get("answers"), "a DNS query's answers"):
        a = _obj(a, "a DNS answer")
        value = a.get("ipv4") or a.get("ipv6") or a.get("hostname")
        if isinstance(value, str):
            answers.append(DNSAnswer(_str(a.get("answer_type")), value, _int(a.get("asn")),
                                     a.get("as_org_name") if isinstance(a.get("as_org_name"), str) else None))
    return DNSQuery(
        hostname=_str(q.get("hostname")),
        query_type=_str(q.get("query_type")),
        engine=_str(q.get("engine")) or "system",
        resolver_address=_str(q.get("resolver_address")) or _str(q.get("resolver_hostname")),
        failure=normalize_failure(q.get("failure")),
        answers=tuple(answers),
        depth=depth or 0,
        classic=classic,
        transaction_id=_int(q.get("transaction_id")),
    )


def _tcp(raw: Any) -> TCPConnect | None:
    t = _obj(raw, "a tcp_connect entry")
    status = _obj(t.get("status") or {}, "tcp_connect.status")
    ip = t.get("ip")
    if not isinstance(ip, str):
        return None
    depth, classic = _tags(t)
    failure = normalize_failure(status.get("failure"))
    success = status.get("success")
    return TCPConnect(
        ip=ip,
        port=_bounded(_int(t.get("port")), MAX_PORT, "tcp_connect.port") or 0,
        success=bool(success) if success is not None else failure is None,
        failure=failure,
        depth=depth or 0,
        classic=classic,
        transaction_id=_int(t.get("transaction_id")),
        fetch_body=_fetch_body(t),
    )


def _tls(raw: Any) -> TLSHandshake:
    t = _obj(raw, "a tls_handshakes entry")
    depth, classic = _tags(t)
    certs = t.get("peer_certificates")
    return TLSHandshake(
        address=_str(t.get("address")),
        server_name=_str(t.get("server_name")),
        failure=normalize_failure(t.get("failure")),
        no_tls_verify=bool(t.get("no_tls_verify")),
        certificates=len(certs) if isinstance(certs, list) else 0,
        depth=depth or 0,
        classic=classic,
        transaction_id=_int(t.get("transaction_id")),
    )


def _http(raw: Any, chronological_index: int) -> HTTPTransaction:
    r = _obj(raw, "a requests entry")
    depth, classic = _tags(r)
    request = r.get("request") or {}
    response = r.get("response") or {}
    request = _obj(request, "requests[].request")
    response = _obj(response, "requests[].response")
    code = _int(response.get("code"))
    return HTTPTransaction(
        url=_str(request.get("url")),
        method=_str(request.get("method")) or "GET",
        failure=normalize_failure(r.get("failure")),
        status_code=code if code and code > 0 else None,
        headers=decode_headers(response.get("headers"), response.get("headers_list")),
        body=decode_body(response.get("body")),
        body_is_truncated=bool(response.get("body_is_truncated")),
        depth=depth if depth is not None else chronological_index,
        classic=classic,
        address=r.get("address") if isinstance(r.get("address"), str) else None,
        transaction_id=_int(r.get("transaction_id")),
    )


def _event(raw: Any) -> NetworkEvent:
    e = _obj(raw, "a network_events entry")
    t = e.get("t")
    return NetworkEvent(
        operation=_str(e.get("operation")),
        address=e.get("address") if isinstance(e.get("address"), str) else None,
        failure=normalize_failure(e.get("failure")),
        num_bytes=_int(e.get("num_bytes")),
        t=float(t) if isinstance(t, (int, float)) and not isinstance(t, bool) else None,
        transaction_id=_int(e.get("transaction_id")),
    )


def _control(raw: Any) -> Control | None:
    if raw is None or raw == {}:
        return None
    c = _obj(raw, "test_keys.control")
    dns = _map(c.get("dns"), "control.dns") or None
    addrs = tuple(a for a in _seq((dns or {}).get("addrs"), "control.dns.addrs") if isinstance(a, str))
    return Control(
        dns_failure=normalize_failure(dns.get("failure")) if dns else None,
        dns_addrs=addrs,
        dns_measured=dns is not None,
        tcp=_control_steps(c.get("tcp_connect")),
        tls=_control_steps(c.get("tls_handshake")),
        http=_control_http(c.get("http_request")),
        ip_asn={ip: asn for ip, info in _map(c.get("ip_info"), "control.ip_info").items()
                if isinstance(info, dict) and (asn := _int(info.get("asn")))},
    )


def _control_steps(raw: Any) -> dict[str, ControlStep]:
    if not isinstance(raw, dict):
        return {}
    steps = {}
    for endpoint, value in raw.items():
        if isinstance(value, dict):
            failure = normalize_failure(value.get("failure"))
            status = value.get("status")
            steps[endpoint] = ControlStep(
                success=bool(status) if status is not None else failure is None,
                failure=failure,
                server_name=value.get("server_name") if isinstance(value.get("server_name"), str) else None,
            )
    return steps


def _control_http(raw: Any) -> ControlHTTP | None:
    if not isinstance(raw, dict):
        return None
    code = _int(raw.get("status_code"))
    length = raw.get("body_length")
    length = length if isinstance(length, int) and not isinstance(length, bool) and length >= 0 else None
    title = raw.get("title")
    return ControlHTTP(
        failure=normalize_failure(raw.get("failure")),
        status_code=code if code and code > 0 else None,
        body_length=length,
        title=title if isinstance(title, str) else "",
        headers=decode_headers(raw.get("headers"), None),
    )
