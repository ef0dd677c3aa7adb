"""Small builders for test keys of the tests other than web_connectivity (df-00x shapes)."""

from __future__ import annotations

from typing import Any


def q(host: str, *ips: str, failure: str | None = None, qtype: str = "A", asn: int | None = None,
      engine: str = "system", resolver: str = "") -> dict[str, Any]:
    answers = [{"answer_type": "AAAA" if ":" in ip else "A", ("ipv6" if ":" in ip else "ipv4"): ip, "asn": asn}
               for ip in ips]
    return {"hostname": host, "query_type": qtype, "engine": engine, "failure": failure,
            "answers": answers or None, "resolver_address": resolver}


def tcp(ip: str, port: int, failure: str | None = None) -> dict[str, Any]:
    return {"ip": ip, "port": port, "status": {"success": failure is None, "failure": failure}}


def tls(address: str, sni: str, failure: str | None = None) -> dict[str, Any]:
    return {"address": address, "server_name": sni, "failure": failure, "no_tls_verify": False,
            "peer_certificates": [] if failure else [{"format": "base64", "data": "AA=="}]}


def req(url: str, failure: str | None = None, code: int | None = 200, body: str = "") -> dict[str, Any]:
    response = None if failure else {"code": code, "body": body, "headers": {}}
    return {"request": {"url": url, "method": "GET", "headers": {}}, "failure": failure, "response": response}


def steps(*, queries=(), tcp_connect=(), tls_handshakes=(), requests=(), **extra) -> dict[str, Any]:
    """Test keys with df-00x lists; ``requests`` given chronologically, stored time-reversed as OONI does."""
    return {"queries": list(queries), "tcp_connect": list(tcp_connect), "tls_handshakes": list(tls_handshakes),
            "requests": list(reversed(requests)), "network_events": [], **extra}


def measurement(test_name: str, test_keys: dict[str, Any] | None, **envelope: Any) -> dict[str, Any]:
    return {"test_name": test_name, "measurement_start_time": "2026-11-30 12:00:00", "probe_cc": "XX",
            "probe_asn": "AS64496", "input": None, "test_keys": test_keys, **envelope}
