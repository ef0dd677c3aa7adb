"""DNS messages without I/O: build a query, judge a reply (never raises).

dnspython builds and parses the wire format; this module decides what a reply
*means* in df-007 terms, so the UDP and DoH steps share one interpretation and
the parser can be fuzzed on its own.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from netvigil.failures import Failure
from netvigil.probe.records import DNSAnswer

_RCODE_FAILURE = {
    dns.rcode.NXDOMAIN: Failure.DNS_NXDOMAIN_ERROR,
    dns.rcode.SERVFAIL: Failure.DNS_SERVFAIL_ERROR,
    dns.rcode.REFUSED: Failure.DNS_REFUSED_ERROR,
}
_RECORD_TYPES = {dns.rdatatype.A: "A", dns.rdatatype.AAAA: "AAAA", dns.rdatatype.CNAME: "CNAME"}


@dataclass(frozen=True, slots=True)
class DNSReply:
    failure: str | None
    answers: tuple[DNSAnswer, ...] = ()
    rcode: int | None = None


def build_query(hostname: str, query_type: str, *, query_id: int | None = None) -> tuple[int, bytes]:
    """A recursive query for ``hostname``; returns ``(id, wire)``.  Raises ValueError for a bad name."""
    try:
        message = dns.message.make_query(dns.name.from_text(hostname), dns.rdatatype.from_text(query_type))
    except dns.exception.DNSException as exc:
        raise ValueError(f"cannot query {hostname!r}: {exc}") from exc
    message.id = random.getrandbits(16) if query_id is None else query_id
    return message.id, message.to_wire()


def parse_reply(wire: bytes, *, query_id: int, hostname: str, query_type: str) -> DNSReply:
    """Interpret a reply to the query ``(query_id, hostname, query_type)``; never raises.

    Wrong id -> ``dns_reply_with_wrong_query_id``; undecodable, not a response,
    another question or truncated -> ``dns_server_misbehaving``; error rcodes
    map to their df-007 names; no record of the asked type -> ``dns_no_answer``.
    Only records of class IN are answers: an on-path injector can send any
    class (CH, HS, 4711...), and their data are not Internet addresses.
    """
    try:
        return _parse_reply(wire, query_id=query_id, hostname=hostname, query_type=query_type)
    except Exception:  # noqa: BLE001 -- garbage from the wire is a recorded failure, never a crash
        return DNSReply(Failure.DNS_SERVER_MISBEHAVING.value)


def _parse_reply(wire: bytes, *, query_id: int, hostname: str, query_type: str) -> DNSReply:
    if len(wire) >= 2 and int.from_bytes(wire[:2], "big") != query_id:
        return DNSReply(Failure.DNS_REPLY_WITH_WRONG_QUERY_ID.value)
    try:
        message = dns.message.from_wire(wire, ignore_trailing=True)
    except (dns.exception.DNSException, ValueError, IndexError, UnicodeError):
        return DNSReply(Failure.DNS_SERVER_MISBEHAVING.value)
    rcode = message.rcode()
    if not message.flags & dns.flags.QR or not _asks(message, hostname, query_type):
        return DNSReply(Failure.DNS_SERVER_MISBEHAVING.value, rcode=rcode)
    if rcode != dns.rcode.NOERROR:
        failure = _RCODE_FAILURE.get(rcode, Failure.DNS_SERVER_MISBEHAVING)
        return DNSReply(failure.value, rcode=rcode)
    if message.flags & dns.flags.TC:
        return DNSReply(Failure.DNS_SERVER_MISBEHAVING.value, rcode=rcode)
    answers = tuple(_answers(message))
    wanted = dns.rdatatype.from_text(query_type)
    if not any(a.answer_type == _RECORD_TYPES[wanted] for a in answers):
        return DNSReply(Failure.DNS_NO_ANSWER.value, answers, rcode)
    return DNSReply(None, answers, rcode)


def _asks(message: dns.message.Message, hostname: str, query_type: str) -> bool:
    if len(message.question) != 1:
        return False
    question = message.question[0]
    try:
        name = dns.name.from_text(hostname)
    except dns.exception.DNSException:
        return False
    return question.name == name and question.rdtype == dns.rdatatype.from_text(query_type)


def _answers(message: dns.message.Message):
    for rrset in message.answer:
        kind = _RECORD_TYPES.get(rrset.rdtype)
        if kind is None or rrset.rdclass != dns.rdataclass.IN:
            continue
        for rdata in rrset:
            value = rdata.target.to_text(omit_final_dot=True) if kind == "CNAME" else rdata.address
            yield DNSAnswer(kind, value, rrset.ttl)
