"""A plain HTTP(S) client over the probe's own steps, for talking to services.

Used for the test helper, DNS over HTTPS and the collector.  Its steps are
recorded on a throwaway trace: these exchanges are not part of what a
measurement observes, but they go through the same proxy, trust store and
hostile-server defences as the measurement itself.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from netvigil.failures import Failure
from netvigil.probe.dns import primary_lookup
from netvigil.probe.endpoint import connect_endpoint
from netvigil.probe.errors import unknown
from netvigil.probe.http import build_request, http_transaction
from netvigil.probe.http1 import Limits
from netvigil.probe.net import Net
from netvigil.probe.records import Headers, HTTPResponse
from netvigil.probe.trace import Trace
from netvigil.probe.urls import BadURL, Target, parse_target

SERVICE_TAGS = ("service",)


@dataclass(frozen=True, slots=True)
class Fetched:
    failure: str | None
    response: HTTPResponse | None


async def fetch(url: str, *, net: Net, method: str = "GET", headers: Headers = (), body: bytes = b"",
                timeout: float) -> Fetched:
    """One request; tries each address of the host in turn until one answers."""
    try:
        target = parse_target(url)
    except BadURL as exc:
        return Fetched(unknown(str(exc)), None)
    try:
        async with asyncio.timeout(timeout):
            return await _fetch(target, net=net, method=method, headers=headers, body=body)
    except TimeoutError:
        return Fetched(Failure.GENERIC_TIMEOUT_ERROR.value, None)


async def _fetch(target: Target, *, net: Net, method: str, headers: Headers, body: bytes) -> Fetched:
    trace = Trace()
    if target.is_ip:
        addresses: tuple[str, ...] = (target.host,)
    else:
        queries = await primary_lookup(target.host, net=net, trace=trace, tags=SERVICE_TAGS)
        addresses = tuple(dict.fromkeys(a for q in queries for a in q.addresses()))
        if not addresses:
            return Fetched(next((q.failure for q in queries if q.failure), Failure.DNS_NO_ANSWER.value), None)
    failure: str | None = None
    for ip in addresses:
        connected = await connect_endpoint(
            ip, target.port, server_name=target.host if target.scheme == "https" else None,
            net=net, trace=trace, tags=SERVICE_TAGS)
        if connected.conn is None:
            failure = connected.failure
            continue
        request = build_request(target, method=method, headers=headers, body=body)
        try:
            result = await http_transaction(connected.conn, request, target, timeout=net.http_timeout,
                                            limits=Limits(max_body_bytes=net.max_body_bytes))
        finally:
            connected.conn.close()
        return Fetched(result.failure, result.response)
    return Fetched(failure, None)
