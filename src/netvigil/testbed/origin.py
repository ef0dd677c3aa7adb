"""Origin servers: every site's HTTP and HTTPS server, and the hosts' pages.

A site serves its page at its URL's path and at ``/``, a 404 elsewhere; with
``redirect`` it answers 302 to that URL (this run's port included); with
``large_file`` its URL is a binary download.  ``delay`` holds every response
back.  ``challenge`` answers visitors arriving from the probes' network
(:data:`~netvigil.testbed.addressing.PROBE_EGRESS` on loopback, the client
subnets in namespace mode) with a CDN challenge page, as CDNs do to
addresses they distrust, while the helper gets the page.

Where origins listen is an :class:`OriginBinding`: loopback binds each
placement's loopback address on a free common pair of high ports; namespace
mode binds the advertised addresses themselves on 80 and 443.

Hosts serve their page for any path, over HTTP only; their HTTPS port, a down
site's ports and a page-less host's ports are bound without listening, so
connections to them are refused.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import itertools
import socket
import ssl
from dataclasses import dataclass

from netvigil.testbed.addressing import PROBE_EGRESS, AddressPlan, Ports
from netvigil.testbed.aio import Supervisor, bind_common_port, bind_tcp
from netvigil.testbed.http_wire import Request, filler, html_page, read_request, response, response_head
from netvigil.testbed.pki import TestbedPKI
from netvigil.testbed.scenarios.scenario import Certificate, Page, Scenario, Site

CHUNK = 64 * 1024
ORIGIN_HEADERS = [("Server", "netvigil-origin"), ("X-Served-By", "origin")]
CHALLENGE = Page(
    name="cdn-challenge", status=403, title="Just a moment...",
    body="<h1>Checking your browser before accessing the site.</h1>"
         "<p>This process is automatic. Your browser will redirect to your requested content shortly.</p>",
    headers=(("Server", "cloudflare"), ("cf-mitigated", "challenge")),
)


def page_response(page: Page, *, head_only: bool = False) -> bytes:
    headers = [("Content-Type", "text/html; charset=utf-8"), *page.headers]
    return response(page.status, headers, html_page(page.title, page.body), head_only=head_only)


@dataclass(frozen=True, slots=True)
class OriginBinding:
    """Where origins listen, and which visitors are the probes (they get CDN challenges).

    ``ports`` None finds a free common pair of ports; ``advertised`` binds the
    advertised addresses instead of the loopback ones (namespace mode, where
    they exist on an interface).
    """

    ports: Ports | None = None
    advertised: bool = False
    probe_network: str = f"{PROBE_EGRESS}/32"


@dataclass(frozen=True, slots=True)
class SiteOrigin:
    """How one site answers a request."""

    site: Site
    ports: Ports
    probes: ipaddress.IPv4Network | ipaddress.IPv6Network

    async def answer(self, request: Request, peer: str, writer: asyncio.StreamWriter) -> None:
        site, head_only = self.site, request.method == "HEAD"
        if site.delay:
            await asyncio.sleep(site.delay)
        path = request.target.split("#")[0]
        if site.challenge and ipaddress.ip_address(peer) in self.probes:
            writer.write(page_response(CHALLENGE, head_only=head_only))
        elif site.redirect:
            location = self.ports.url(site.redirect)
            writer.write(response(302, [*ORIGIN_HEADERS, ("Location", location)], b"", head_only=head_only))
        elif site.large_file and path == site.path:
            await _send_file(writer, site.large_file, head_only)
        elif path in (site.path, "/"):
            body = html_page(site.title, site.body or filler(site.domain))
            headers = [*ORIGIN_HEADERS, ("Content-Type", "text/html; charset=utf-8")]
            writer.write(response(200, headers, body, head_only=head_only))
        else:
            writer.write(response(404, ORIGIN_HEADERS, html_page("Not found", "<p>No such page.</p>"),
                                  head_only=head_only))


async def _send_file(writer: asyncio.StreamWriter, size: int, head_only: bool) -> None:
    writer.write(response_head(200, [*ORIGIN_HEADERS, ("Content-Type", "application/octet-stream")], size))
    if head_only:
        return
    pattern = bytes(itertools.islice(itertools.cycle(range(256)), CHUNK))
    left = size
    while left:
        writer.write(pattern[:min(left, CHUNK)])
        left -= min(left, CHUNK)
        await writer.drain()


@dataclass(frozen=True, slots=True)
class HostOrigin:
    """A host answering every request with its page."""

    page: Page

    async def answer(self, request: Request, peer: str, writer: asyncio.StreamWriter) -> None:
        writer.write(page_response(self.page, head_only=request.method == "HEAD"))


Responder = SiteOrigin | HostOrigin


async def serve_one_request(responder: Responder, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
    request = await read_request(reader)
    if request is None:
        return
    peer = writer.get_extra_info("peername")[0]
    await responder.answer(request, peer, writer)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def start_origins(scenario: Scenario, plan: AddressPlan, pki: TestbedPKI,
                        supervisor: Supervisor, binding: OriginBinding = OriginBinding()) -> Ports:
    """Bind and serve every origin of ``scenario``; returns the run's port pair."""
    names = [p.name for p in plan.placements]
    addresses = [p.advertised if binding.advertised else p.bound for p in plan.placements]
    contexts = [_tls_context(scenario, name, pki) for name in names]
    fixed = binding.ports
    http_port, http_socks = _bind_all(addresses, [_serves(scenario, n) for n in names],
                                      fixed.http if fixed else None)
    for sock in http_socks:
        supervisor.reserve(sock)
    https_port, https_socks = _bind_all(addresses, [c is not None for c in contexts],
                                        fixed.https if fixed else None)
    for sock in https_socks:
        supervisor.reserve(sock)
    ports = Ports(http_port, https_port)
    probes = ipaddress.ip_network(binding.probe_network)
    for name, context, http_sock, https_sock in zip(names, contexts, http_socks, https_socks, strict=True):
        responder = _responder(scenario, name, ports, probes)
        if responder is None:
            continue
        handler = functools.partial(serve_one_request, responder)
        await supervisor.serve(handler, http_sock)
        if context is not None:
            await supervisor.serve(handler, https_sock, tls=context)
    return ports


def _bind_all(addresses: list[str], listen: list[bool], port: int | None) -> tuple[int, list[socket.socket]]:
    """One port on every address: ``port``, or a free one found by :func:`bind_common_port`."""
    if port is None:
        return bind_common_port(addresses, listen=listen)
    socks: list[socket.socket] = []
    try:
        for address, listening in zip(addresses, listen, strict=True):
            socks.append(bind_tcp(address, port, listen=listening))
    except OSError:
        for sock in socks:
            sock.close()
        raise
    return port, socks


def _serves(scenario: Scenario, name: str) -> bool:
    site = scenario.site(name)
    return not site.down if site is not None else scenario.host(name).page is not None


def _responder(scenario: Scenario, name: str, ports: Ports,
               probes: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Responder | None:
    if not _serves(scenario, name):
        return None
    site = scenario.site(name)
    if site is not None:
        return SiteOrigin(site, ports, probes)
    page = scenario.host(name).page
    assert page is not None
    return HostOrigin(scenario.page(page))


def _tls_context(scenario: Scenario, name: str, pki: TestbedPKI) -> ssl.SSLContext | None:
    site = scenario.site(name)
    if site is None or site.down:
        return None
    return pki.server_context(site.domain, expired=site.certificate is Certificate.EXPIRED)
