"""Hostile DNS replies (issue 10): whatever an on-path injector sends is a recorded failure, never a crash.

Real replies are built with dnspython, then given answers of other classes or
mutated byte by byte; the parser must return a df-007 failure (or a real
answer) for every one.  The UDP step and ``dns-check`` are run against a real
loopback server that sends such a reply.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netvigil.failures import Failure
from netvigil.probe.config import ProbeConfig, parse_udp_resolver
from netvigil.probe.dns import lookup_udp
from netvigil.probe.dns_check import parse_resolver, run_dns_check
from netvigil.probe.dnsmsg import build_query, parse_reply
from netvigil.probe.inputs import Input
from netvigil.probe.runner import RunOptions
from netvigil.probe.trace import Trace

NAME = "example.org"
KNOWN = {f.value for f in Failure}


def real_reply(query_wire: bytes, *rrsets: dns.rrset.RRset) -> bytes:
    """dnspython's reply to ``query_wire`` carrying ``rrsets`` as its answer."""
    response = dns.message.make_response(dns.message.from_wire(query_wire))
    response.answer.extend(rrsets)
    return response.to_wire()


def rrset(rdclass: str, rdtype: str, text: str, name: str = NAME) -> dns.rrset.RRset:
    return dns.rrset.from_text(f"{name}.", 60, rdclass, rdtype, text)


def a_in(address: str = "93.184.215.14") -> dns.rrset.RRset:
    return rrset("IN", "A", address)


# name -> answer rrsets of a reply to "example.org A", and the failure it must be recorded as
CLASS_SCENARIOS = {
    "A of class CH (Chaosnet: a name and an octal address)": ((rrset("CH", "A", "ch.example. 1234"),),
                                                               Failure.DNS_NO_ANSWER.value),
    "A of class HS": ((rrset("HS", "A", r"\# 4 01020304"),), Failure.DNS_NO_ANSWER.value),
    "A of class NONE": ((rrset("NONE", "A", r"\# 4 01020304"),), Failure.DNS_NO_ANSWER.value),
    "A of class 4711": ((rrset("CLASS4711", "A", r"\# 4 01020304"),), Failure.DNS_NO_ANSWER.value),
    "AAAA of class HS": ((rrset("HS", "AAAA", r"\# 16 " + "00" * 16),), Failure.DNS_NO_ANSWER.value),
    "CNAME of class HS, then IN A": ((rrset("HS", "CNAME", "alias.example."), a_in()), None),
    "IN A after a CH A": ((rrset("HS", "A", r"\# 4 01020304"), a_in()), None),
}


@pytest.mark.parametrize("name", CLASS_SCENARIOS)
def test_answers_of_other_classes_are_not_addresses(name: str) -> None:
    rrsets, expected = CLASS_SCENARIOS[name]
    query_id, wire = build_query(NAME, "A", query_id=4242)
    reply = parse_reply(real_reply(wire, *rrsets), query_id=query_id, hostname=NAME, query_type="A")
    assert reply.failure == expected
    if expected is None:
        assert [a.value for a in reply.answers if a.answer_type == "A"] == ["93.184.215.14"]
    assert all(isinstance(a.value, str) for a in reply.answers)


def _base_reply() -> tuple[int, bytes]:
    query_id, wire = build_query(NAME, "A", query_id=0x0A0B)
    return query_id, real_reply(wire, rrset("IN", "CNAME", "alias.example.org."), a_in(),
                                rrset("IN", "A", "93.184.215.15"))


def _check(reply_wire: bytes, query_id: int, query_type: str = "A") -> None:
    reply = parse_reply(reply_wire, query_id=query_id, hostname=NAME, query_type=query_type)
    assert reply.failure is None or reply.failure in KNOWN
    if reply.failure is None:
        assert any(a.answer_type == query_type for a in reply.answers)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_real_replies_are_failures_or_answers_never_exceptions(data: st.DataObject) -> None:
    query_id, wire = _base_reply()
    mutated = bytearray(wire)
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(12, len(mutated) - 1))  # keep the header: reach the answer parser
        mutated[position] = data.draw(st.integers(0, 255))
    _check(bytes(mutated), query_id)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 0xFFFF), st.sampled_from(["A", "AAAA", "CNAME", "TXT", "MX", "NS", "SOA", "PTR"]))
def test_any_class_and_type_in_a_real_reply_is_survived(rdclass: int, rdtype: str) -> None:
    """Every class (0-65535) on records of common types, patched into a real reply's answers."""
    query_id, wire = _base_reply()
    answer = rrset("IN", rdtype, {"A": "1.2.3.4", "AAAA": "::1", "CNAME": "x.example.", "TXT": '"t"',
                                  "MX": "10 mx.example.", "NS": "ns.example.", "PTR": "p.example.",
                                  "SOA": "ns.example. h.example. 1 2 3 4 5"}[rdtype])
    reply = real_reply(build_query(NAME, "A", query_id=query_id)[1], answer)
    at = len(reply) - 2 - len(answer[0].to_digestable()) - 6  # the class field of the (only) answer
    patched = reply[:at] + rdclass.to_bytes(2, "big") + reply[at + 2:]
    for query_type in ("A", "AAAA"):
        _check(patched, query_id, query_type)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=500))
def test_random_bytes_after_a_valid_header_and_question_are_survived(tail: bytes) -> None:
    """Header (right id, QR, one answer claimed) and the question kept, then anything."""
    query_id, wire = build_query(NAME, "A", query_id=0x0C0D)
    header = bytearray(wire[:12])
    header[2] |= 0x80  # QR
    header[6:8] = (1).to_bytes(2, "big")  # ANCOUNT 1
    _check(bytes(header) + wire[12:] + tail, query_id)


class _Injector(asyncio.DatagramProtocol):
    """Answers every query with one A record of class HS (what an injector can send)."""

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        query = dns.message.from_wire(data)
        name = query.question[0].name.to_text(omit_final_dot=True)
        self.transport.sendto(real_reply(data, rrset("HS", "A", r"\# 4 01020304", name=name)), addr)


async def _injector() -> tuple[asyncio.DatagramTransport, str]:
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        _Injector, local_addr=("127.0.0.1", 0))
    host, port = transport.get_extra_info("sockname")[:2]
    return transport, f"udp://{host}:{port}"


def test_the_udp_step_records_a_reply_of_another_class() -> None:
    async def scenario():
        transport, address = await _injector()
        try:
            return await lookup_udp(NAME, parse_udp_resolver(address), "A", trace=Trace(), transaction_id=1,
                                    tags=(), timeout=2.0)
        finally:
            transport.close()

    result = asyncio.run(scenario())
    assert result.failure == Failure.DNS_NO_ANSWER.value and result.raw_response


def test_dns_check_writes_every_measurement_despite_an_injector(tmp_path: Path) -> None:
    """Three names through an injecting resolver: three measurements, each with the failure recorded."""
    output = tmp_path / "dns.jsonl"

    async def scenario():
        transport, address = await _injector()
        try:
            names = [Input(f"site{n}.example") for n in range(3)]
            await run_dns_check(names, [parse_resolver(address)], ProbeConfig(probe_cc="IT", probe_asn="AS137"),
                                RunOptions(output=output, progress=False))
        finally:
            transport.close()

    asyncio.run(scenario())
    records = [orjson.loads(line) for line in output.read_bytes().splitlines()]
    assert len(records) == 3
    for record in records:
        [lookup] = record["test_keys"]["lookups"].values()
        assert {q["failure"] for q in lookup["queries"]} == {Failure.DNS_NO_ANSWER.value}
