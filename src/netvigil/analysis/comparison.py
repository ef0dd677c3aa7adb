"""The probe's view beside the control's, for people checking a verdict by eye.

Everything here is data the measured network chose (answers, titles, headers,
bodies): it is returned as plain strings and must be escaped wherever shown.
The body of the final response is cut to :data:`MAX_BODY_CHARS`.
"""

from __future__ import annotations

from typing import Any

from netvigil.model.body import body_length, body_text
from netvigil.model.errors import BadRecord
from netvigil.model.web_connectivity import (
    Control,
    WebConnectivityKeys,
    join_endpoint,
    parse_web_connectivity,
)

MAX_BODY_CHARS = 64 * 1024


def comparison(raw: dict[str, Any]) -> dict[str, Any] | None:
    """DNS, TCP, TLS and HTTP side by side; None for tests without web_connectivity keys."""
    tk = raw.get("test_keys")
    if raw.get("test_name") != "web_connectivity" or not isinstance(tk, dict):
        return None
    try:
        keys = parse_web_connectivity(tk)
    except BadRecord as exc:
        return {"error": f"test keys could not be read: {exc.reason}"}
    control = keys.control
    return {"dns": _dns(keys, control), "tcp": _tcp(keys, control), "tls": _tls(keys, control),
            "http": _http(keys, control), "control_failure": keys.control_failure}


def _dns(keys: WebConnectivityKeys, control: Control | None) -> dict[str, Any]:
    probe = [{"hostname": q.hostname, "query_type": q.query_type, "engine": q.engine,
              "resolver": q.resolver_address, "failure": q.failure, "answers": list(q.addresses())}
             for q in keys.queries]
    ctrl = None if control is None else {"failure": control.dns_failure, "answers": list(control.dns_addrs)}
    return {"probe": probe, "control": ctrl}


def _tcp(keys: WebConnectivityKeys, control: Control | None) -> list[dict[str, Any]]:
    rows = []
    for t in keys.tcp_connect:
        endpoint = join_endpoint(t.ip, t.port)
        step = control.tcp.get(endpoint) if control else None
        rows.append({"endpoint": endpoint, "probe_failure": t.failure, "probe_ok": t.success,
                     "control_ok": None if step is None else step.success,
                     "control_failure": None if step is None else step.failure})
    return rows


def _tls(keys: WebConnectivityKeys, control: Control | None) -> list[dict[str, Any]]:
    rows = []
    for h in keys.tls_handshakes:
        step = control.tls.get(h.address) if control else None
        rows.append({"endpoint": h.address, "server_name": h.server_name, "probe_failure": h.failure,
                     "control_ok": None if step is None else step.success,
                     "control_failure": None if step is None else step.failure})
    return rows


def _http(keys: WebConnectivityKeys, control: Control | None) -> dict[str, Any]:
    final = keys.requests[-1] if keys.requests else None
    probe = None
    if final is not None:
        text = body_text(final.body)
        probe = {"url": final.url, "failure": final.failure, "status_code": final.status_code,
                 "title": final.title, "body_length": body_length(final.body), "headers": list(final.headers),
                 "body": text[:MAX_BODY_CHARS], "body_cut": len(text) > MAX_BODY_CHARS}
    http = control.http if control else None
    ctrl = None if http is None else {"failure": http.failure, "status_code": http.status_code,
                                      "title": http.title, "body_length": http.body_length,
                                      "headers": list(http.headers)}
    return {"probe": probe, "control": ctrl}
