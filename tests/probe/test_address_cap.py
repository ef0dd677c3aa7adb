"""A name with thousands of addresses (issue 10): a measurement connects to at most 64, and says so.

A real loopback DNS server answers 3,999 A records in one 64 KB datagram, all in
127.0.0.0/8; the probe must measure the first 64 and record that the answer was
truncated, as the helper caps the endpoints it is asked about.
"""

from __future__ import annotations

import asyncio

from probe_servers import http_response, page, port_of, serve_bytes, start_dns, start_tcp

from netvigil.probe.config import ProbeConfig
from netvigil.probe.resolve import MAX_ADDRESSES
from netvigil.probe.th import MAX_ENDPOINTS
from netvigil.probe.web_connectivity import measure

NAME = "many.example"
ADDRESSES = ["127.0.0.1", *(f"127.0.{n // 250}.{n % 250 + 2}" for n in range(3_998))]


def test_a_measurement_connects_to_at_most_64_addresses_and_records_the_truncation() -> None:
    assert MAX_ADDRESSES == MAX_ENDPOINTS == 64

    async def scenario():
        dns_server = await start_dns({NAME: ADDRESSES})
        origin = await start_tcp(serve_bytes(http_response(page("Many"))))
        try:
            config = ProbeConfig(resolver=dns_server.address, use_system_resolver=False, connect_timeout=2.0,
                                 http_timeout=5.0)
            return await measure(f"http://{NAME}:{port_of(origin)}/", config)
        finally:
            dns_server.transport.close()
            origin.close()

    measurement = asyncio.run(scenario())
    keys = measurement["test_keys"]
    answers = [a for q in keys["queries"] for a in q["answers"] or () if a["answer_type"] == "A"]
    assert len(answers) == 3_999  # the whole answer stays in the record, as evidence
    connected = [t["ip"] for t in keys["tcp_connect"]]
    assert len(connected) == MAX_ADDRESSES
    first = [a["ipv4"] for a in answers[:MAX_ADDRESSES]]  # dnspython shuffles the records on the wire
    assert set(connected) == set(first)  # the first 64 in the answer's order
    assert keys["x_addresses_truncated"] == [{"hostname": NAME, "depth": 0, "measured": 64, "dropped": 3_935}]
    assert set(answers_ip := [a["ipv4"] for a in answers]) == set(ADDRESSES) and len(answers_ip) == 3_999


def test_the_helper_answers_and_measures_at_most_64_addresses_of_a_name() -> None:
    import orjson

    from netvigil.probe.client import fetch
    from netvigil.probe.helper_server import start_helper
    from netvigil.probe.net import Net
    from netvigil.probe.tls import client_context

    async def scenario():
        dns_server = await start_dns({NAME: ADDRESSES})
        helper = await start_helper(host="127.0.0.1", port=0, resolver=dns_server.address, ca_file=None,
                                    allow_private_targets=True)  # the addresses are on loopback
        try:
            body = orjson.dumps({"http_request": f"http://{NAME}:9/", "tcp_connect": []})
            fetched = await fetch(helper.url + "/", net=Net(tls_context=client_context(None)), method="POST",
                                  body=body, headers=(("Content-Type", "application/json"),), timeout=30)
            return orjson.loads(fetched.response.body)
        finally:
            await helper.close()
            dns_server.transport.close()

    answer = asyncio.run(scenario())
    assert len(answer["dns"]["addrs"]) == MAX_ADDRESSES and answer["dns"]["x_addrs_dropped"] == 3_935
    assert len(answer["tcp_connect"]) == MAX_ADDRESSES
