"""The probe's side of the ts-017 test-helper protocol.

The response is stored as ``test_keys.control``.  It is parsed leniently (our
helper and OONI's speak the same JSON, but a third-party helper may not): each
top-level field of the wrong JSON type is dropped and named in
``x_control_dropped`` rather than failing the whole measurement or reaching the
analysis with a shape it rejects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from netvigil.failures import Failure
from netvigil.probe.client import fetch
from netvigil.probe.config import join_hostport
from netvigil.probe.http import BROWSER_HEADERS
from netvigil.probe.net import Net
from netvigil.probe.urls import Target

CLIENT_IP_HEADER = "X-Netvigil-Client-Ip"  # our helper tells the probe its public address (to scrub it)
_JSON_HEADERS = (("Content-Type", "application/json"), ("Accept", "application/json"))
# Top-level fields of a ts-017 answer and the JSON type each must have.
_SHAPE: dict[str, type] = {"tcp_connect": dict, "tls_handshake": dict, "quic_handshake": dict,
                           "http_request": dict, "http3_request": dict, "dns": dict, "ip_info": dict}


@dataclass(frozen=True, slots=True)
class ControlResult:
    request: dict[str, Any]
    response: dict[str, Any] | None
    failure: str | None
    client_ip: str | None = None
    dropped: tuple[str, ...] = field(default=())


def control_request(target: Target, addresses: tuple[str, ...]) -> dict[str, Any]:
    """The ts-017 request: URL, the browser headers, and every endpoint the probe will try."""
    endpoints = []
    for ip in addresses:
        if target.scheme == "http" and not target.explicit_port:
            endpoints.append(join_hostport(ip, 443))
        endpoints.append(join_hostport(ip, target.port))
    return {"http_request": target.url,
            "http_request_headers": {name: [value] for name, value in BROWSER_HEADERS},
            "tcp_connect": endpoints, "x_quic_enabled": False}


async def ask_control(helper_url: str, request: dict[str, Any], *, net: Net, timeout: float) -> ControlResult:
    fetched = await fetch(helper_url.rstrip("/") + "/", net=net, method="POST", headers=_JSON_HEADERS,
                          body=orjson.dumps(request), timeout=timeout)
    response = fetched.response
    if fetched.failure is not None or response is None:
        return ControlResult(request, None, fetched.failure or Failure.EOF_ERROR.value)
    client_ip = response.header(CLIENT_IP_HEADER)
    if response.code != 200:
        return ControlResult(request, None, Failure.HTTP_REQUEST_FAILED.value, client_ip)
    try:
        parsed = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        return ControlResult(request, None, Failure.JSON_PARSE_ERROR.value, client_ip)
    if not isinstance(parsed, dict):
        return ControlResult(request, None, Failure.JSON_PARSE_ERROR.value, client_ip)
    control, dropped = conform(parsed)
    return ControlResult(request, control, None, client_ip, dropped)


def conform(parsed: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Keep fields of the right type (``null`` is allowed); name the ones dropped."""
    control: dict[str, Any] = {}
    dropped = []
    for key, value in parsed.items():
        expected = _SHAPE.get(key)
        if expected is None or value is None or isinstance(value, expected):
            control[key] = value
        else:
            dropped.append(key)
    dns = control.get("dns")
    if isinstance(dns, dict) and not isinstance(dns.get("addrs", []), (list, type(None))):
        control["dns"] = {**dns, "addrs": []}
        dropped.append("dns.addrs")
    return control, tuple(dropped)


async def ask_public_ip(helper_url: str, *, net: Net, timeout: float) -> str | None:
    """The probe's address as our helper sees it (None from a helper that does not say)."""
    fetched = await fetch(helper_url.rstrip("/") + "/", net=net, timeout=timeout)
    return fetched.response.header(CLIENT_IP_HEADER) if fetched.response is not None else None
