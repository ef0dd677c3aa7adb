"""The ts-017 helper over real HTTP: answers, legacy failure names, and malformed requests."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from probe_servers import http_response, page, port_of, refused_port, serve_bytes, start_dns, start_tcp

from netvigil.probe.client import fetch
from netvigil.probe.control import CLIENT_IP_HEADER
from netvigil.probe.helper_server import start_helper
from netvigil.probe.net import Net
from netvigil.probe.tls import client_context

NET = Net(tls_context=client_context(None), connect_timeout=1.0, http_timeout=3.0)


async def _with_helper(call):
    origin = await start_tcp(serve_bytes(http_response(page("Helper Target Page"))), host="127.0.0.10")
    dns = await start_dns({"site.example": ["127.0.0.10"]})
    helper = await start_helper(host="127.0.0.1", port=0, resolver=dns.address, ca_file=None,
                                allow_private_targets=True)  # its targets are on loopback
    try:
        return await call(helper.url, port_of(origin))
    finally:
        await helper.close()
        origin.close()
        dns.transport.close()


def _post(body: bytes):
    async def call(url: str, _port: int):
        return await fetch(url + "/", net=NET, method="POST", body=body,
                           headers=(("Content-Type", "application/json"),), timeout=10)

    return asyncio.run(_with_helper(call))


def test_control_answer_shape_and_legacy_names() -> None:
    async def call(url: str, port: int):
        request = {"http_request": f"http://site.example:{port}/",
                   "http_request_headers": {"Accept": ["*/*"]},
                   "tcp_connect": [f"127.0.0.10:{port}", f"127.0.0.10:{refused_port()}"], "x_quic_enabled": False}
        return await fetch(url, net=NET, method="POST", body=orjson.dumps(request), timeout=10)

    fetched = asyncio.run(_with_helper(call))
    assert fetched.response.code == 200 and fetched.response.header(CLIENT_IP_HEADER) == "127.0.0.1"
    answer = orjson.loads(fetched.response.body)
    assert set(answer) == {"tcp_connect", "tls_handshake", "quic_handshake", "http_request", "http3_request",
                           "dns", "ip_info"}
    assert answer["dns"] == {"failure": None, "addrs": ["127.0.0.10"]}
    statuses = sorted((v["status"], v["failure"]) for v in answer["tcp_connect"].values())
    assert statuses == [(False, "connection_refused_error"), (True, None)]
    http = answer["http_request"]
    assert (http["status_code"], http["title"], http["failure"]) == (200, "Helper Target Page", None)
    assert http["body_length"] == len(page("Helper Target Page")) and http["discovered_h3_endpoint"] == ""
    assert answer["ip_info"]["127.0.0.10"] == {"asn": 0, "flags": 1 | 2 | 4}


def test_nxdomain_is_dns_name_error() -> None:
    async def call(url: str, _port: int):
        request = {"http_request": "http://missing.example/", "tcp_connect": []}
        return await fetch(url, net=NET, method="POST", body=orjson.dumps(request), timeout=10)

    answer = orjson.loads(asyncio.run(_with_helper(call)).response.body)
    assert answer["dns"] == {"failure": "dns_name_error", "addrs": []}
    assert answer["http_request"]["failure"] == "dns_lookup_error" and answer["http_request"]["status_code"] == -1


@pytest.mark.parametrize(("body", "status"), [
    (b"{not json", 400),
    (b"[1, 2]", 400),
    (orjson.dumps({"http_request": "gopher://x/"}), 400),
    (orjson.dumps({"http_request": "http://x/", "tcp_connect": ["nonsense"]}), 400),
    (orjson.dumps({"http_request": "http://x/", "tcp_connect": ["1.2.3.4:80"] * 65}), 400),
    (b"x" * 70_000, 413),
])
def test_malformed_requests_get_a_clear_4xx(body: bytes, status: int) -> None:
    fetched = _post(body)
    assert fetched.response.code == status
    assert "error" in orjson.loads(fetched.response.body)


def test_health_check_and_unknown_path() -> None:
    async def call(url: str, _port: int):
        return (await fetch(url + "/", net=NET, timeout=5), await fetch(url + "/nope", net=NET, timeout=5))

    health, missing = asyncio.run(_with_helper(call))
    assert health.response.code == 200 and missing.response.code == 404
