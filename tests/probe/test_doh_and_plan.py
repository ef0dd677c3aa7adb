"""DNS over HTTPS through the probe's own client, and the endpoint plan of a hop (E001)."""

from __future__ import annotations

import asyncio

from probe_servers import FakeDNS, http_response, port_of, read_head, server_context, start_tcp

from netvigil.probe.control import control_request
from netvigil.probe.doh import resolve_doh
from netvigil.probe.hop import plan_endpoints
from netvigil.probe.net import Net
from netvigil.probe.tls import client_context
from netvigil.probe.trace import Trace
from netvigil.probe.urls import parse_target


def test_doh_lookup(test_ca, ca_file, cert_dir) -> None:
    answers = FakeDNS({"site.example": ["192.0.2.9"]})

    async def doh(reader, writer) -> None:
        head = (await read_head(reader)).decode("latin-1").lower()
        length = int(head.split("content-length:")[1].split("\r\n")[0])
        reply = answers.reply(await reader.readexactly(length))
        writer.write(http_response(reply, headers=("Content-Type: application/dns-message",)))
        await writer.drain()

    async def scenario():
        server = await start_tcp(doh, ssl_context=server_context(test_ca, ["127.0.0.1"], cert_dir))
        try:
            net = Net(tls_context=client_context(ca_file), connect_timeout=1.0)
            return await resolve_doh("site.example", f"https://127.0.0.1:{port_of(server)}/dns-query", net=net,
                                     trace=Trace(), tags=("depth=0",))
        finally:
            server.close()

    a, aaaa = asyncio.run(scenario())
    assert (a.engine, a.failure, a.addresses()) == ("doh", None, ("192.0.2.9",))
    assert aaaa.failure == "dns_no_answer" and a.transaction_id == aaaa.transaction_id


def test_http_url_on_default_port_also_checks_tls_on_443() -> None:
    plan = plan_endpoints(parse_target("http://site.example/"), ("192.0.2.1",))
    assert [(p.port, p.tls, p.fetch_body) for p in plan] == [(80, False, True), (443, True, False)]
    explicit = plan_endpoints(parse_target("http://site.example:8080/"), ("192.0.2.1",))
    assert [(p.port, p.tls, p.fetch_body) for p in explicit] == [(8080, False, True)]
    request = control_request(parse_target("http://site.example/"), ("192.0.2.1", "2001:db8::1"))
    assert request["tcp_connect"] == ["192.0.2.1:443", "192.0.2.1:80", "[2001:db8::1]:443", "[2001:db8::1]:80"]
    assert set(request["http_request_headers"]) == {"Accept", "Accept-Language", "User-Agent"}
