"""Scenarios: a simulated internet, its censor, and the verdict each site must get.

A scenario is declarative and backend-neutral: it says *what* the network looks
like and *what* the censor does, never how a backend produces it.  Loopback mode
(:mod:`netvigil.testbed.loopback.testbed`) turns the rules into a censoring DNS server
and a censoring SOCKS5 middle; namespace mode (:mod:`netvigil.testbed.netns.testbed`)
turns the same rules into iptables rules, tc shaping and censor responders in
a router namespace.

The parts:

* ``sites``: domains with an origin server (HTTP and HTTPS), and for every
  client the technique the analysis must report for them (the ground truth,
  from :class:`netvigil.model.verdict.Technique`);
* ``hosts``: other machines of the simulated internet, typically the blockpage
  server that forged DNS answers point at; ``pages``: response bodies served by
  hosts or injected by the censor;
* ``clients``: the vantage points a site is measured from.  A client's
  ``region`` is what a regional shutdown selects, and its ``time`` is the
  simulated clock shutdown windows are compared with;
* the censor policy: ``dns``, ``tcp``, ``tls``, ``http``, ``throttle`` and
  ``shutdown`` rules.  At each layer the first matching rule decides.

Every rule carries a :class:`Match` keyed by exactly what that layer can see:
the queried domain (DNS), the destination address or a site's domain (TCP), the
SNI (TLS), the Host header (HTTP).  A domain matches itself and its subdomains,
as DNS blocklists do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from enum import StrEnum
from urllib.parse import urlsplit

from netvigil.model.verdict import Technique

DEFAULT_CLIENT = "probe"


class DnsAction(StrEnum):
    NXDOMAIN = "nxdomain"  # answer "no such name"
    TIMEOUT = "timeout"  # never answer
    FORGE = "forge"  # answer with the address of the ``answer`` host instead of the truth
    INJECT = "inject"  # forge, and let the true answer follow (an on-path injector racing the resolver)


class TcpAction(StrEnum):
    BLACKHOLE = "blackhole"  # the connection is never answered (SYN dropped)
    REFUSE = "refuse"  # the connection is refused (RST to the SYN)


class TlsAction(StrEnum):
    RESET = "reset"  # RST once the ClientHello carrying the SNI is seen
    DROP = "drop"  # silently drop everything after the ClientHello
    INTERCEPT = "intercept"  # answer the handshake with a certificate from an untrusted CA


class HttpAction(StrEnum):
    BLOCKPAGE = "blockpage"  # answer the request with ``page`` and close
    RESET = "reset"  # RST once the request carrying the Host is seen
    CLOSE = "close"  # FIN once the request is seen, without a response
    TIMEOUT = "timeout"  # never answer the request


class Certificate(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"


def domain_matches(name: str, domain: str) -> bool:
    """Whether ``name`` is ``domain`` or one of its subdomains (case-insensitive)."""
    name, domain = name.lower().rstrip("."), domain.lower().rstrip(".")
    return name == domain or name.endswith("." + domain)


@dataclass(frozen=True, slots=True)
class Match:
    """What a rule is keyed by.  Exactly one of the four is non-empty."""

    domains: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    snis: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()

    def describe(self) -> str:
        for label, values in (("domain", self.domains), ("ip", self.ips), ("sni", self.snis),
                              ("host", self.hosts)):
            if values:
                return f"{label} {', '.join(values)}"
        return "everything"


@dataclass(frozen=True, slots=True)
class DnsRule:
    match: Match
    action: DnsAction
    answer: str | None = None  # the host whose address is forged (forge, inject)


@dataclass(frozen=True, slots=True)
class TcpRule:
    match: Match
    action: TcpAction


@dataclass(frozen=True, slots=True)
class TlsRule:
    match: Match
    action: TlsAction


@dataclass(frozen=True, slots=True)
class HttpRule:
    match: Match
    action: HttpAction
    page: str | None = None  # blockpage only


@dataclass(frozen=True, slots=True)
class ThrottleRule:
    """A bandwidth cap on what the matching connections download."""

    match: Match
    bytes_per_second: int


@dataclass(frozen=True, slots=True)
class Shutdown:
    """Everything dropped between ``start`` and ``end``.

    With datetimes the window is absolute; with times of day (UTC) it recurs
    every day and may cross midnight (a curfew).  ``regions`` limits it to the
    clients of those regions; empty means every client.
    """

    start: datetime | time
    end: datetime | time
    regions: tuple[str, ...] = ()

    def active(self, client: Client) -> bool:
        """Whether ``client`` is cut off at its own (simulated) time."""
        if self.regions and client.region not in self.regions:
            return False
        if client.time is None:
            raise ValueError(f"client {client.name!r} has no time to compare with a shutdown window")
        if isinstance(self.start, datetime) and isinstance(self.end, datetime):
            return self.start <= client.time < self.end
        of_day = client.time.astimezone(UTC).time()
        if self.start <= self.end:
            return self.start <= of_day < self.end
        return of_day >= self.start or of_day < self.end


@dataclass(frozen=True, slots=True)
class Page:
    """A response: a status, and an HTML page with a title and a body."""

    name: str
    status: int
    title: str
    body: str
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Host:
    """A machine of the simulated internet that is not a site.

    ``address`` fixes its address (e.g. Iran's 10.10.34.35); otherwise the
    backend allocates one.  Without a ``page`` nothing listens on it, so
    connections to it are refused.
    """

    name: str
    address: str | None = None
    page: str | None = None


@dataclass(frozen=True, slots=True)
class Client:
    """A vantage point: the region a regional shutdown selects, and its simulated clock."""

    name: str
    region: str | None = None
    time: datetime | None = None


@dataclass(frozen=True, slots=True)
class Site:
    """A domain with an origin server, and the verdict expected for each client.

    ``url`` is what is measured.  The origin serves the page (``title``,
    ``body``) at the URL's path and at ``/``; ``redirect`` makes it answer
    every request with a 302 to that URL instead; ``large_file`` makes the
    URL's path a binary download of that many bytes.  ``down`` means nothing
    listens at all; ``delay`` delays every response; ``challenge`` serves a
    CDN challenge page to visitors coming from the probes' network.
    """

    domain: str
    url: str
    expect: tuple[tuple[str, Technique], ...]  # (client name, technique) for every client
    title: str
    body: str = ""
    redirect: str | None = None
    large_file: int = 0
    down: bool = False
    certificate: Certificate = Certificate.VALID
    delay: float = 0.0
    challenge: bool = False

    def expected(self, client: str) -> Technique:
        return dict(self.expect)[client]

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "") or "/"


@dataclass(frozen=True, slots=True)
class Scenario:
    """A whole scenario; built and validated by :mod:`netvigil.testbed.scenarios.load`."""

    name: str
    description: str
    country: str
    sites: tuple[Site, ...]
    clients: tuple[Client, ...] = (Client(DEFAULT_CLIENT),)
    hosts: tuple[Host, ...] = ()
    pages: tuple[Page, ...] = ()
    dns: tuple[DnsRule, ...] = ()
    tcp: tuple[TcpRule, ...] = ()
    tls: tuple[TlsRule, ...] = ()
    http: tuple[HttpRule, ...] = ()
    throttle: tuple[ThrottleRule, ...] = ()
    shutdown: tuple[Shutdown, ...] = ()

    def site(self, domain: str) -> Site | None:
        return next((s for s in self.sites if s.domain == domain.lower()), None)

    def host(self, name: str) -> Host:
        return next(h for h in self.hosts if h.name == name)

    def page(self, name: str) -> Page:
        return next(p for p in self.pages if p.name == name)
