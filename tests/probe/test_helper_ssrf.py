"""The helper is no SSRF or port-scan oracle (issue 10).

Unless started with ``allow_private_targets`` (the testbeds' flag), the helper
connects to no loopback, private, link-local, unspecified or own address: not
for the URL, not for a name that resolves there, not for a ``tcp_connect``
entry.  The refusal is decided before any packet, so an open port and a closed
one get the very same answer.  Real servers on 127.0.0.0/8.
"""

from __future__ import annotations

import argparse
import asyncio

import orjson
import pytest
from probe_servers import http_response, page, port_of, refused_port, serve_bytes, start_dns, start_tcp

from netvigil.probe.client import fetch
from netvigil.cli.probe import add_helper_parser
from netvigil.probe.helper_server import start_helper
from netvigil.probe.net import Net
from netvigil.probe.target_policy import TargetPolicy, is_own_address
from netvigil.probe.tls import client_context

NET = Net(tls_context=client_context(None), connect_timeout=1.0, http_timeout=3.0)
SECRET = "Internal Admin Console"

# address -> whether a helper without the flag may connect to it
ADDRESSES = {
    "127.0.0.1": False, "127.8.9.10": False, "::1": False, "::ffff:127.0.0.1": False, "0.0.0.0": False,
    "::": False, "10.1.2.3": False, "172.16.0.1": False, "192.168.1.1": False, "100.64.0.1": False,
    "169.254.169.254": False, "fe80::1": False, "fd00::1": False, "224.0.0.1": False, "255.255.255.255": False,
    "::ffff:10.0.0.1": False, "93.184.215.14": True, "2606:2800:21f:cb07:6820:80da:af6b:8b2c": True,
    "8.8.8.8": True,
}


@pytest.mark.parametrize("address", ADDRESSES)
def test_the_policy_refuses_every_non_public_address(address: str) -> None:
    refusal = TargetPolicy().refusal(address)
    assert (refusal is None) == ADDRESSES[address]
    assert TargetPolicy(allow_private=True).refusal(address) is None


def test_own_addresses_are_recognised() -> None:
    assert is_own_address("127.0.0.1") and is_own_address("127.0.0.2")  # all of 127/8 is ours on Linux
    assert not is_own_address("192.0.2.1") and not is_own_address("93.184.215.14")


async def _ask(request: dict, *, allow: bool, records: dict[str, list[str]] | None = None):
    secret = await start_tcp(serve_bytes(http_response(page(SECRET))), host="127.0.0.1")
    dns = await start_dns(records or {})
    helper = await start_helper(host="127.0.0.1", port=0, resolver=dns.address, ca_file=None,
                                allow_private_targets=allow)
    try:
        body = orjson.dumps(request).replace(b"PORT", str(port_of(secret)).encode())
        body = body.replace(b"CLOSED", str(refused_port()).encode())
        fetched = await fetch(helper.url + "/", net=NET, method="POST", body=body,
                              headers=(("Content-Type", "application/json"),), timeout=15)
        assert fetched.response is not None and fetched.response.code == 200
        answer = orjson.loads(fetched.response.body)
        answer["test_secret_port"] = port_of(secret)
        return answer
    finally:
        await helper.close()
        secret.close()
        dns.transport.close()


SCAN = {"http_request": "http://127.0.0.1:PORT/",
        "tcp_connect": ["127.0.0.1:PORT", "127.0.0.1:CLOSED", "[::ffff:127.0.0.1]:PORT", "0.0.0.0:PORT",
                        "10.0.0.1:80", "169.254.169.254:80", "[::1]:PORT"]}


def test_a_helper_refuses_to_fetch_or_scan_loopback_and_private_addresses() -> None:
    answer = asyncio.run(_ask(SCAN, allow=False))
    http = answer["http_request"]
    assert http["status_code"] == -1 and http["body_length"] == -1 and SECRET not in orjson.dumps(answer).decode()
    assert "not a public address" in http["failure"]
    results = list(answer["tcp_connect"].values())
    assert len(results) == len(SCAN["tcp_connect"])
    assert all(r["status"] is False for r in results)
    assert len({r["failure"] for r in results}) == 1, "an open and a closed port must look the same"
    assert "not a public address" in results[0]["failure"]


def test_a_name_that_resolves_to_loopback_is_refused_too() -> None:
    answer = asyncio.run(_ask({"http_request": "http://rebind.example:PORT/", "tcp_connect": []}, allow=False,
                              records={"rebind.example": ["127.0.0.1"]}))
    assert answer["dns"]["addrs"] == ["127.0.0.1"]  # the lookup itself is answered: it is the control's DNS
    assert answer["http_request"]["status_code"] == -1
    assert "not a public address" in answer["http_request"]["failure"]
    assert SECRET not in orjson.dumps(answer).decode()


def test_with_the_testbed_flag_the_same_request_is_measured() -> None:
    answer = asyncio.run(_ask(SCAN, allow=True))
    assert answer["http_request"]["status_code"] == 200 and answer["http_request"]["title"] == SECRET
    connect = answer["tcp_connect"]
    assert connect[f"127.0.0.1:{answer['test_secret_port']}"] == {"status": True, "failure": None}
    assert [r["failure"] for e, r in connect.items() if e.startswith("127.0.0.1:")].count(
        "connection_refused_error") == 1  # the scan works again: only because the flag was given


def test_the_helper_command_has_the_flag_off_by_default() -> None:
    parser = argparse.ArgumentParser()
    add_helper_parser(parser.add_subparsers())
    assert parser.parse_args(["helper"]).allow_private_targets is False
    assert parser.parse_args(["helper", "--allow-private-targets"]).allow_private_targets is True
