"""DNS over HTTPS (RFC 8484, POST): an unfiltered reference for the analysis (ts-017 E004).

Off unless configured.  The exchange uses the probe's HTTP client, so it takes
the same path (proxy, trust store) as everything else the probe does.
"""

from __future__ import annotations

import asyncio

from netvigil.failures import Failure
from netvigil.probe.client import fetch
from netvigil.probe.dns import QUERY_TYPES
from netvigil.probe.dnsmsg import build_query, parse_reply
from netvigil.probe.errors import classify
from netvigil.probe.net import Net
from netvigil.probe.records import DNSQueryResult
from netvigil.probe.trace import Trace

_HEADERS = (("Accept", "application/dns-message"), ("Content-Type", "application/dns-message"))


async def lookup_doh(hostname: str, url: str, query_type: str, *, net: Net, trace: Trace,
                     transaction_id: int, tags: tuple[str, ...]) -> DNSQueryResult:
    t0 = trace.now()
    common = {"hostname": hostname, "query_type": query_type, "engine": "doh", "resolver_address": url,
              "transaction_id": transaction_id, "tags": tags, "t0": t0}
    try:
        query_id, wire = build_query(hostname, query_type, query_id=0)  # RFC 8484 §4.1: id 0
    except ValueError as exc:
        return DNSQueryResult(**common, t=trace.now(), failure=classify(exc))
    fetched = await fetch(url, net=net, method="POST", headers=_HEADERS, body=wire,
                          timeout=net.dns_timeout + net.connect_timeout + net.tls_timeout)
    if fetched.failure is not None or fetched.response is None:
        return DNSQueryResult(**common, t=trace.now(), failure=fetched.failure or Failure.EOF_ERROR.value)
    if fetched.response.code != 200:
        return DNSQueryResult(**common, t=trace.now(), failure=Failure.DNS_SERVER_MISBEHAVING.value)
    reply = fetched.response.body
    parsed = parse_reply(reply, query_id=query_id, hostname=hostname, query_type=query_type)
    return DNSQueryResult(**common, t=trace.now(), failure=parsed.failure, answers=parsed.answers,
                          rcode=parsed.rcode, raw_response=reply)


async def resolve_doh(hostname: str, url: str, *, net: Net, trace: Trace,
                      tags: tuple[str, ...]) -> tuple[DNSQueryResult, ...]:
    transaction_id = trace.next_id()
    return tuple(await asyncio.gather(*(
        lookup_doh(hostname, url, qtype, net=net, trace=trace, transaction_id=transaction_id, tags=tags)
        for qtype in QUERY_TYPES)))
