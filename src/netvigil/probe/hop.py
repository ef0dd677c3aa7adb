"""One URL of a redirect chain, measured step by step (ts-017 classic algorithm + E001/E002).

For each hop: resolve the host; connect to every address on the URL's port
(with TLS for https); for an http URL on the default port also handshake on 443
to see whether the addresses are valid for the name (``fetch_body=false``);
then GET over the first endpoint that came up, in address order.  A redirect
starts a new hop with fresh DNS and connections, carrying cookies and the
Referer, up to ``max_redirects``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from netvigil.failures import Failure
from netvigil.probe.cookies import CookieJar
from netvigil.probe.endpoint import Connected, connect_endpoint
from netvigil.probe.errors import unknown
from netvigil.probe.http import BROWSER_HEADERS, build_request, http_transaction
from netvigil.probe.http1 import Limits
from netvigil.probe.net import Net
from netvigil.probe.records import HTTPTransactionResult
from netvigil.probe.resolve import Resolution, resolve
from netvigil.probe.trace import Trace, tags
from netvigil.probe.urls import BadURL, MissingHost, Target, parse_target, resolve_location

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
OnResolved = Callable[[tuple[str, ...]], None]
# OONI's v0.5 probe writes this on the last request of an over-long chain.
TOO_MANY_REDIRECTS = unknown("stopped after too many redirects")


@dataclass(frozen=True, slots=True)
class Hop:
    depth: int
    target: Target
    resolution: Resolution | None          # None for an IP-literal URL (nothing is faked)
    endpoints: tuple[Connected, ...]       # connections are closed; records only
    request: HTTPTransactionResult | None
    failure: str | None                    # why the chain stopped at this hop
    next_url: str | None                   # where the response redirects to

    @property
    def addresses(self) -> tuple[str, ...]:
        return self.resolution.addresses if self.resolution else (self.target.host,)


@dataclass(frozen=True, slots=True)
class _Planned:
    ip: str
    port: int
    tls: bool
    fetch_body: bool


async def fetch_chain(target: Target, *, net: Net, trace: Trace, side_lookups: bool = True,
                      on_resolved: OnResolved | None = None) -> tuple[Hop, ...]:
    """Follow ``target`` through its redirects; ``on_resolved`` sees hop 0's addresses."""
    jar = CookieJar()
    hops: list[Hop] = []
    referer = ""
    for depth in range(net.max_redirects + 1):
        hop = await run_hop(target, depth=depth, net=net, trace=trace, jar=jar, referer=referer,
                            side_lookups=side_lookups, on_resolved=on_resolved if depth == 0 else None)
        hops.append(hop)
        if hop.next_url is None:
            break
        referer, target = target.url, parse_target(hop.next_url)
    return tuple(hops)


async def run_hop(target: Target, *, depth: int, net: Net, trace: Trace, jar: CookieJar, referer: str,
                  side_lookups: bool, on_resolved: OnResolved | None) -> Hop:
    resolution = None
    addresses: tuple[str, ...] = (target.host,)
    if not target.is_ip:
        resolution = await resolve(target.host, depth=depth, net=net, trace=trace, side_lookups=side_lookups)
        addresses = resolution.addresses
    if on_resolved is not None:
        on_resolved(addresses)
    if resolution is not None and resolution.failure is not None:
        return Hop(depth, target, resolution, (), None, resolution.failure, None)
    plan = plan_endpoints(target, addresses)
    connected = await asyncio.gather(*(
        connect_endpoint(p.ip, p.port, server_name=target.host if p.tls else None, net=net, trace=trace,
                         tags=tags(depth=depth, classic=True, fetch_body=p.fetch_body)) for p in plan))
    chosen = next((c for p, c in zip(plan, connected) if p.fetch_body and c.conn is not None), None)
    for c in connected:
        if c.conn is not None and c is not chosen:
            c.conn.close()
    if chosen is None or chosen.conn is None:
        failure = next(c.failure for p, c in zip(plan, connected) if p.fetch_body)
        return Hop(depth, target, resolution, tuple(connected), None, failure, None)
    request = await _get(chosen, target, net=net, jar=jar, referer=referer)
    request, next_url = follow_redirect(request, target, depth=depth, max_redirects=net.max_redirects)
    return Hop(depth, target, resolution, tuple(connected), request, request.failure, next_url)


def plan_endpoints(target: Target, addresses: tuple[str, ...]) -> list[_Planned]:
    https = target.scheme == "https"
    plan = [_Planned(ip, target.port, https, True) for ip in addresses]
    if not https and not target.explicit_port:  # E001: do the addresses hold a certificate for the name?
        plan += [_Planned(ip, 443, True, False) for ip in addresses]
    return plan


async def _get(chosen: Connected, target: Target, *, net: Net, jar: CookieJar,
               referer: str) -> HTTPTransactionResult:
    assert chosen.conn is not None
    headers = list(BROWSER_HEADERS)
    if referer:
        headers.append(("Referer", referer))
    cookie = jar.header(target)
    if cookie:
        headers.append(("Cookie", cookie))
    alpn = chosen.tls.negotiated_protocol if chosen.tls else ""
    try:
        result = await http_transaction(chosen.conn, build_request(target, headers=tuple(headers)), target,
                                        limits=Limits(max_body_bytes=net.max_body_bytes),
                                        timeout=net.http_timeout, alpn=alpn)
    finally:
        chosen.conn.close()
    if result.response is not None:
        jar.store(target, result.response.headers)
    return result


def follow_redirect(request: HTTPTransactionResult, target: Target, *, depth: int,
                    max_redirects: int) -> tuple[HTTPTransactionResult, str | None]:
    """The next URL of a redirect response; a redirect that cannot be followed becomes the
    request's failure, as OONI records it."""
    response = request.response
    if request.failure is not None or response is None or response.code not in REDIRECT_CODES:
        return request, None
    location = response.header("location")
    if not location:
        return request, None  # a 3xx without Location is a final response
    try:
        next_url = resolve_location(target.url, location)
        parse_target(next_url)
    except BadURL as exc:
        failure = (Failure.HTTP_INVALID_REDIRECT_LOCATION_HOST.value if isinstance(exc, MissingHost)
                   else unknown(str(exc)))
        return dataclasses.replace(request, failure=failure), None
    if depth >= max_redirects:
        return dataclasses.replace(request, failure=TOO_MANY_REDIRECTS), None
    return request, next_url
