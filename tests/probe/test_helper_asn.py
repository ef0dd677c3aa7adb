"""The helper's ``ip_info`` carries real AS numbers when it has an ASN database.

The database is a real ``.mmdb`` written in the test for the loopback range the
test servers live on; the helper is the real server, asked over loopback.
"""

from __future__ import annotations

import asyncio

import orjson
import pytest
from probe_servers import http_response, page, port_of, serve_bytes, start_dns, start_tcp

from netvigil.probe.client import fetch
from netvigil.probe.helper_server import start_helper
from netvigil.probe.net import Net
from netvigil.probe.tls import client_context
from netvigil.store.asn import open_asn_lookup

NET = Net(tls_context=client_context(None), connect_timeout=1.0, http_timeout=3.0)


def _loopback_mmdb(path):
    mmdb_writer = pytest.importorskip("mmdb_writer")
    pytest.importorskip("maxminddb")
    from netaddr import IPSet

    writer = mmdb_writer.MMDBWriter(ip_version=4, database_type="GeoLite2-ASN", description="test")
    writer.insert_network(IPSet(["127.0.0.0/24"]), {"autonomous_system_number": 64500,
                                                     "autonomous_system_organization": "Loopback Test AS"})
    writer.to_db_file(str(path))
    return open_asn_lookup(str(path))


def test_ip_info_asn_from_the_database(tmp_path) -> None:
    asn = _loopback_mmdb(tmp_path / "asn.mmdb")

    async def run():
        origin = await start_tcp(serve_bytes(http_response(page("ASN Page"))), host="127.0.0.10")
        dns = await start_dns({"site.example": ["127.0.0.10"]})
        helper = await start_helper(host="127.0.0.1", port=0, resolver=dns.address, ca_file=None, asn=asn)
        try:
            port = port_of(origin)
            request = {"http_request": f"http://site.example:{port}/", "http_request_headers": {},
                       "tcp_connect": [f"127.0.1.7:{port}"], "x_quic_enabled": False}
            return await fetch(helper.url, net=NET, method="POST", body=orjson.dumps(request), timeout=10)
        finally:
            await helper.close()
            origin.close()
            dns.transport.close()

    answer = orjson.loads(asyncio.run(run()).response.body)
    assert answer["ip_info"]["127.0.0.10"]["asn"] == 64500  # in the database
    assert answer["ip_info"]["127.0.1.7"]["asn"] == 0  # outside it: unknown stays 0
