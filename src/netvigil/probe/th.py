"""The helper's measurement: ts-017's control answer, from the same steps as the probe.

Names follow what OONI's helper writes, so OONI's probes read our answers as
they read theirs: a failed lookup is ``dns_name_error`` (NXDOMAIN) or
``dns_server_misbehaving``, a name without addresses is an empty list with no
failure, a refused connection is ``connection_refused_error``, and an HTTP
fetch that failed at DNS is ``dns_lookup_error``.  Our own analysis maps those
legacy names back (:func:`netvigil.failures.normalize_failure`).
``ip_info`` flags: 1 the probe resolved it, 2 the helper resolved it, 4 bogon,
8 a TLS handshake proved it serves the name; ``asn`` comes from the helper's
IP-to-ASN database (``netvigil.store.asn``), 0 where it has none or no entry.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from netvigil.analysis.asn import AsnLookup
from netvigil.failures import Failure
from netvigil.probe.config import ConfigError, join_hostport, parse_hostport
from netvigil.probe.endpoint import Connected, connect_endpoint
from netvigil.probe.hop import Hop, fetch_chain
from netvigil.probe.net import Net
from netvigil.probe.resolve import resolve
from netvigil.probe.trace import Trace
from netvigil.probe.urls import BadURL, Target, parse_target

MAX_ENDPOINTS = 64
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_TITLE_SCAN = 1 << 16
_DNS_FAILURES = {Failure.DNS_NXDOMAIN_ERROR.value: "dns_name_error", Failure.DNS_NO_ANSWER.value: None}
_LEGACY = {Failure.CONNECTION_REFUSED.value: "connection_refused_error"}
FLAG_PROBE, FLAG_HELPER, FLAG_BOGON, FLAG_VALID = 1, 2, 4, 8


class BadControlRequest(ValueError):
    """The request is not a ts-017 control request (the server answers 400)."""


@dataclass(frozen=True, slots=True)
class ControlQuery:
    target: Target
    endpoints: tuple[tuple[str, int], ...]


def parse_control_request(obj: Any) -> ControlQuery:
    if not isinstance(obj, dict) or not isinstance(obj.get("http_request"), str):
        raise BadControlRequest("expected an object with an http_request URL")
    try:
        target = parse_target(obj["http_request"])
    except BadURL as exc:
        raise BadControlRequest(str(exc)) from exc
    raw = obj.get("tcp_connect") or []
    if not isinstance(raw, list) or len(raw) > MAX_ENDPOINTS or not all(isinstance(e, str) for e in raw):
        raise BadControlRequest(f"tcp_connect must be a list of at most {MAX_ENDPOINTS} \"ip:port\" strings")
    try:
        endpoints = tuple(_endpoint(e) for e in raw)
    except (ConfigError, ValueError) as exc:
        raise BadControlRequest(f"bad tcp_connect entry: {exc}") from exc
    return ControlQuery(target, endpoints)


def _endpoint(value: str) -> tuple[str, int]:
    host, port = parse_hostport(value)
    return str(ipaddress.ip_address(host)), port


async def control_answer(query: ControlQuery, *, net: Net, asn: AsnLookup | None = None) -> dict[str, Any]:
    trace = Trace()
    target = query.target
    addrs, dns = await _dns(target, net, trace)
    endpoints = tuple(dict.fromkeys(query.endpoints + tuple((ip, target.port) for ip in addrs)))
    connected, hops = await asyncio.gather(
        asyncio.gather(*(_check(ip, port, target, net, trace) for ip, port in endpoints)),
        fetch_chain(target, net=net, trace=trace, side_lookups=False))
    return {
        "tcp_connect": {join_hostport(ip, port): {"status": c.tcp.failure is None,
                                                  "failure": _legacy(c.tcp.failure)}
                        for (ip, port), c in zip(endpoints, connected)},
        "tls_handshake": {join_hostport(ip, port): {"server_name": c.tls.server_name,
                                                    "status": c.tls.failure is None, "failure": c.tls.failure}
                          for (ip, port), c in zip(endpoints, connected) if c.tls is not None},
        "quic_handshake": {},
        "http_request": _http_summary(hops[-1]),
        "http3_request": None,
        "dns": dns,
        "ip_info": _ip_info(query, addrs, endpoints, connected, asn),
    }


async def _dns(target: Target, net: Net, trace: Trace) -> tuple[tuple[str, ...], dict[str, Any]]:
    if target.is_ip:
        return (target.host,), {"failure": None, "addrs": [target.host]}
    resolution = await resolve(target.host, depth=0, net=net, trace=trace, side_lookups=False)
    failure = resolution.failure
    if failure is not None:
        failure = _DNS_FAILURES.get(failure, Failure.DNS_SERVER_MISBEHAVING.value)
    dns = {"failure": failure, "addrs": list(resolution.addresses)}
    if resolution.dropped:  # more addresses than MAX_ADDRESSES: the first ones are answered and measured
        dns["x_addrs_dropped"] = resolution.dropped
    return resolution.addresses, dns


async def _check(ip: str, port: int, target: Target, net: Net, trace: Trace) -> Connected:
    tls = port == 443 or (target.scheme == "https" and port == target.port)
    connected = await connect_endpoint(ip, port, server_name=target.host if tls else None, net=net,
                                       trace=trace, tags=())
    if connected.conn is not None:
        connected.conn.close()
    return connected


def _http_summary(final: Hop) -> dict[str, Any]:
    response = final.request.response if final.request else None
    if final.failure is not None or response is None:
        failure = final.failure or Failure.EOF_ERROR.value
        if final.request is None and final.resolution is not None and final.resolution.failure:
            failure = "dns_lookup_error"
        return {"body_length": -1, "discovered_h3_endpoint": "", "failure": _legacy(failure), "title": "",
                "headers": {}, "status_code": -1}
    headers: dict[str, str] = {}
    for name, value in response.headers:
        headers.setdefault(_utf8(name), _utf8(value))
    match = _TITLE.search(response.body[:_TITLE_SCAN])
    title = match.group(1).decode("utf-8", "replace").strip() if match else ""
    return {"body_length": len(response.body), "discovered_h3_endpoint": "", "failure": None, "title": title,
            "headers": headers, "status_code": response.code}


def _ip_info(query: ControlQuery, addrs: tuple[str, ...], endpoints: tuple[tuple[str, int], ...],
             connected: list[Connected], asn: AsnLookup | None = None) -> dict[str, dict[str, int]]:
    valid = {ip for (ip, _), c in zip(endpoints, connected) if c.tls is not None and c.tls.failure is None}
    probe = {ip for ip, _ in query.endpoints}
    info = {}
    for ip in dict.fromkeys([*probe, *addrs]):
        flags = (FLAG_PROBE if ip in probe else 0) | (FLAG_HELPER if ip in addrs else 0)
        flags |= FLAG_BOGON if not ipaddress.ip_address(ip).is_global else 0
        flags |= FLAG_VALID if ip in valid else 0
        info[ip] = {"asn": (asn.lookup(ip).asn or 0) if asn is not None else 0, "flags": flags}
    return info


def _utf8(text: str) -> str:
    """Header text was decoded with surrogateescape; JSON needs valid UTF-8."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _legacy(failure: str | None) -> str | None:
    return _LEGACY.get(failure, failure) if failure else None
