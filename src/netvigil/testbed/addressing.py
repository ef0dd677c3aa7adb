"""The address plan of a loopback testbed: who is where, and how to get there.

The scenario's machines live in a simulated internet.  Each site and host gets
an *advertised* address, the one DNS answers carry and probes connect to, and a
*bound* loopback address where its server really listens (127.0.0.10, .11, ...
in the scenario's order).  Advertised addresses are routable-looking addresses
of IANA's 93.184.215.0/24 (as :mod:`netvigil.testbed.synthetic` uses), so the
analysis judges them as it would judge a real site; a host with a fixed
address (Iran's 10.10.34.35) keeps it.  Loopback addresses cannot be
advertised: the analysis rightly treats them as bogons, and every site would
look "down for everyone".

Advertised addresses are never dialled.  Probes and the helper reach them only
through a SOCKS5 middle (censoring for probes, clean for the helper), and the
middle dials nothing but the bound addresses of this plan: an address outside
it is unreachable, so no connection can leave the machine.

Ports: binding 80 and 443 needs root, so every origin listens on one common
pair of free high ports, and measured URLs carry them explicitly
(``https://news.example:40123/``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from netvigil.testbed.scenarios.scenario import Scenario

SERVICE_ADDRESS = "127.0.0.1"  # DNS servers, middles, helper
PROBE_EGRESS = "127.0.0.2"  # the source address of connections the censoring middles make for probes
HELPER_EGRESS = "127.0.0.3"  # the source address of connections the clean middle makes for the helper
ADVERTISED_PREFIX = "93.184.215."  # the simulated internet (IANA), never dialled
BOUND_PREFIX = "127.0.0."
FIRST_HOST = 10
LAST_HOST = 254
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Placement:
    """One machine of the simulated internet: the address DNS gives, the address bound."""

    name: str
    advertised: str
    bound: str


class AddressPlan:
    def __init__(self, scenario: Scenario) -> None:
        names = [s.domain for s in scenario.sites] + [h.name for h in scenario.hosts]
        if FIRST_HOST + len(names) > LAST_HOST:
            raise ValueError(f"{len(names)} sites and hosts: the plan has room for {LAST_HOST - FIRST_HOST}")
        fixed = {h.name: h.address for h in scenario.hosts if h.address}
        self.placements = tuple(
            Placement(name, fixed.get(name) or f"{ADVERTISED_PREFIX}{n}", f"{BOUND_PREFIX}{n}")
            for n, name in enumerate(names, start=FIRST_HOST))
        self._by_name = {p.name: p for p in self.placements}
        self._routes = {p.advertised: p.bound for p in self.placements}
        self._services: set[tuple[str, int]] = set()

    def of(self, name: str) -> Placement:
        """The placement of a site (by domain) or a host (by name)."""
        return self._by_name[name]

    def add_service(self, host: str, port: int) -> None:
        """A testbed service (the helper) that probes may reach through the middle."""
        self._services.add((host, port))

    def route(self, ip: str, port: int, *, inside: bool) -> tuple[str, int] | None:
        """Where a connection to ``ip:port`` really goes, or None: unreachable.

        Fixed non-routable addresses (a national blockpage on 10.10.34.35) exist
        only ``inside`` the censored network: the helper, outside, cannot reach them.
        """
        bound = self._routes.get(ip)
        if bound is not None and (inside or ipaddress.ip_address(ip).is_global):
            return bound, port
        return (ip, port) if (ip, port) in self._services else None

    def zone(self, scenario: Scenario) -> dict[str, str]:
        """The true DNS records: every site's domain -> its advertised address."""
        return {s.domain: self.of(s.domain).advertised for s in scenario.sites}


@dataclass(frozen=True, slots=True)
class Ports:
    """The port pair every origin listens on in this run."""

    http: int
    https: int

    def url(self, url: str) -> str:
        """``url`` with this run's port made explicit, unless it is the scheme's default.

        Namespace mode listens on 80 and 443, so its URLs (redirects included)
        stay as the scenario wrote them.
        """
        parts = urlsplit(url)
        port = self.https if parts.scheme == "https" else self.http
        if port == DEFAULT_PORTS.get(parts.scheme):
            return urlunsplit(parts._replace(netloc=parts.hostname or ""))
        return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{port}"))
