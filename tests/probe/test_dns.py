"""DNS steps against a real loopback UDP server that misbehaves on request."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from probe_servers import refused_port, start_dns

from netvigil.probe.config import parse_udp_resolver
from netvigil.probe.dns import lookup_getaddrinfo, lookup_udp
from netvigil.probe.dnsmsg import build_query, parse_reply
from netvigil.probe.trace import Trace

SCENARIOS = [
    # (name, behaviour, expected failure)
    ("ok.example", "", None),
    ("unknown.example", "", "dns_nxdomain_error"),
    ("nx.example", "nxdomain", "dns_nxdomain_error"),
    ("servfail.example", "servfail", "dns_servfail_error"),
    ("refused.example", "refused", "dns_refused_error"),
    ("garbage.example", "garbage", "dns_server_misbehaving"),
    ("wrongid.example", "wrong_id", "dns_reply_with_wrong_query_id"),
    ("truncated.example", "truncated", "dns_server_misbehaving"),
    ("silent.example", "silent", "generic_timeout_error"),
]


async def _lookup(name: str, behaviour: str, query_type: str = "A"):
    server = await start_dns({name: ["192.0.2.7"]} if name != "unknown.example" else {},
                             {name: behaviour} if behaviour else {})
    try:
        return await lookup_udp(name, parse_udp_resolver(server.address), query_type, trace=Trace(),
                                transaction_id=1, tags=("classic", "depth=0"), timeout=0.3)
    finally:
        server.transport.close()


@pytest.mark.parametrize(("name", "behaviour", "expected"), SCENARIOS)
def test_udp_lookup_scenarios(name: str, behaviour: str, expected: str | None) -> None:
    result = asyncio.run(_lookup(name, behaviour))
    assert result.failure == expected
    assert result.engine == "udp" and result.tags == ("classic", "depth=0")
    assert 0 <= result.t0 <= result.t
    if expected is None:
        assert result.addresses() == ("192.0.2.7",)
        assert result.raw_response and result.rcode == 0


def test_no_aaaa_record_is_no_answer() -> None:
    result = asyncio.run(_lookup("ok.example", "", "AAAA"))
    assert result.failure == "dns_no_answer" and result.answers == ()


def test_nothing_listening_is_refused() -> None:
    async def lookup():
        return await lookup_udp("x.example", ("127.0.0.1", refused_port()), "A", trace=Trace(),
                                transaction_id=1, tags=(), timeout=1.0)

    assert asyncio.run(lookup()).failure == "connection_refused"


def test_invalid_name_is_recorded_not_raised() -> None:
    async def lookup():
        return await lookup_udp("a" * 300 + ".example", ("127.0.0.1", 53), "A", trace=Trace(),
                                transaction_id=1, tags=(), timeout=1.0)

    assert asyncio.run(lookup()).failure.startswith("unknown_failure: ")


def test_getaddrinfo_localhost_and_failure() -> None:
    async def both():
        ok = await lookup_getaddrinfo("localhost", trace=Trace(), tags=(), timeout=5)
        bad = await lookup_getaddrinfo("does-not-exist.invalid", trace=Trace(), tags=(), timeout=5)
        return ok, bad

    ok, bad = asyncio.run(both())
    assert ok.failure is None and ok.engine == "getaddrinfo" and ok.query_type == "ANY"
    assert "127.0.0.1" in ok.addresses() or "::1" in ok.addresses()
    assert bad.failure in ("dns_nxdomain_error", "dns_temporary_failure", "dns_no_answer")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_reply_parser_never_raises(wire: bytes) -> None:
    reply = parse_reply(wire, query_id=0x1234, hostname="example.org", query_type="A")
    assert reply.failure is None or isinstance(reply.failure, str)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 11), st.binary(max_size=40))
def test_reply_parser_on_mangled_real_replies(cut: int, junk: bytes) -> None:
    query_id, wire = build_query("example.org", "A", query_id=7)
    reply = parse_reply(wire[:cut] + junk, query_id=query_id, hostname="example.org", query_type="A")
    assert reply.failure is not None  # a query echoed back, cut or padded is never an answer
