"""The network steps most OONI tests record, as one typed bundle.

whatsapp, telegram, signal, facebook_messenger, tor targets, urlgetter and
dnscheck lookups all embed the same df-00x lists (``queries``, ``tcp_connect``,
``tls_handshakes``, ``requests``, ``network_events``) that web_connectivity
does; :func:`parse_steps` reads them with the web_connectivity parsers so every
test shares one reading of the sub-formats.  ``requests`` becomes chronological
(the archive stores it time-reversed).  ``network_events`` are not read: no rule
uses them, and they are the longest list (whatsapp records ~150).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netvigil.failures import normalize_failure
from netvigil.model.errors import BadRecord
from netvigil.model.web_connectivity import (
    DNSQuery,
    HTTPTransaction,
    TCPConnect,
    TLSHandshake,
    _dns,
    _http,
    _list,
    _tcp,
    _tls,
)


@dataclass(frozen=True, slots=True)
class Steps:
    queries: tuple[DNSQuery, ...]
    tcp_connect: tuple[TCPConnect, ...]
    tls_handshakes: tuple[TLSHandshake, ...]
    requests: tuple[HTTPTransaction, ...]
    failure: str | None = None  # the test's own top-level failure, if any
    failed_operation: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.queries or self.tcp_connect or self.tls_handshakes or self.requests)


def parse_steps(tk: dict[str, Any], *, where: str = "test_keys") -> Steps:
    """Read the df-00x lists of ``tk`` (raises BadRecord on wrong JSON types)."""
    if not isinstance(tk, dict):
        raise BadRecord(f"{where} is a JSON {type(tk).__name__}, not an object")
    tcp = tk.get("tcp_connect")
    if isinstance(tcp, dict):  # openvpn and a few tunnels record one connect as an object
        tcp = [tcp]
        tk = {**tk, "tcp_connect": tcp}
    requests = _list(tk, "requests")
    return Steps(
        queries=tuple(_dns(q) for q in _list(tk, "queries")),
        tcp_connect=tuple(t for t in (_tcp(x) for x in _list(tk, "tcp_connect")) if t),
        tls_handshakes=tuple(_tls(x) for x in _list(tk, "tls_handshakes")),
        requests=tuple(_http(r, i) for i, r in enumerate(reversed(requests))),
        failure=normalize_failure(tk.get("failure")),
        failed_operation=tk.get("failed_operation") if isinstance(tk.get("failed_operation"), str) else None,
    )


def opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def opt_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def opt_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def str_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BadRecord(f"{where} is a JSON {type(value).__name__}, not a list")
    return tuple(v for v in value if isinstance(v, str))


def obj(value: Any, where: str) -> dict[str, Any]:
    """A JSON object where the format has one; ``null`` counts as empty."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRecord(f"{where} is a JSON {type(value).__name__}, not an object")
    return value
