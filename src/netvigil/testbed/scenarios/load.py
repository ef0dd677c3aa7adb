"""Scenario files (TOML) -> :class:`~netvigil.testbed.scenarios.scenario.Scenario`.

Sections and keys (``*`` required; domain, ip, sni, host and regions take a
string or a list of strings)::

    [scenario]        name*, description*, country (two letters; the probe's, default ZZ)
    [clients.NAME]    region, time (date-time with offset: the client's simulated clock).
                      Default: one client named "probe".
    [sites."DOMAIN"]  expect* (a technique, or { CLIENT = technique, ... } for every client),
                      url (default https://DOMAIN/, no port), title (default DOMAIN),
                      body (HTML; default: generated paragraphs), redirect (URL on another site),
                      large_file (bytes: the URL is a binary download), down (true: nothing
                      listens), certificate ("valid" | "expired"), delay (seconds, at most 10),
                      challenge (true: a CDN challenge page for visitors from the probes' network)
    [hosts.NAME]      address (a fixed non-routable address such as 10.10.34.35), page
    [pages.NAME]      status (default 200), title, body (HTML), headers = { Name = "value" }
    [[dns]]           domain*, action* (nxdomain | timeout | forge | inject),
                      answer (forge, inject: the host whose address is answered)
    [[tcp]]           ip or domain*, action* (blackhole | refuse)
    [[tls]]           sni*, action* (reset | drop | intercept)
    [[http]]          host*, action* (blockpage | reset | close | timeout), page (blockpage)
    [[throttle]]      domain, ip, sni or host*, rate* ("64 KiB/s"; B, KiB, MiB, kbit, Mbit per s)
    [[shutdown]]      start*, end* (date-times; or times of day, UTC, for a daily window),
                      regions (default: every client)

By example::

    [scenario]
    name = "example"
    description = "One site blocked by DNS."
    country = "IR"

    [clients.tehran]
    region = "tehran"
    time = 2019-11-17T10:00:00Z

    [sites."news.example"]
    title = "News of the day"
    expect = "dns.bogon"

    [hosts.national-blockpage]
    address = "10.10.34.35"
    page = "iran"

    [pages.iran]
    body = '<iframe src="http://10.10.34.34/?type=Invalid Site"></iframe>'

    [[dns]]
    domain = "news.example"
    action = "forge"
    answer = "national-blockpage"

Validation is complete: a wrong type, an unknown key, a dangling reference
(a page, host, client or region that does not exist) or an address that could
leave the machine is refused with the line and section it is on.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from netvigil.model.verdict import Technique
from netvigil.testbed.scenarios.scenario import (
    DEFAULT_CLIENT,
    Certificate,
    Client,
    DnsAction,
    DnsRule,
    Host,
    HttpAction,
    HttpRule,
    Match,
    Page,
    Scenario,
    Shutdown,
    Site,
    TcpAction,
    TcpRule,
    ThrottleRule,
    TlsAction,
    TlsRule,
)
from netvigil.testbed.scenarios.toml_reader import Document, ScenarioError, Table

__all__ = ["ScenarioError", "load_scenario", "parse_scenario"]

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KiB|MiB|kbit|Mbit)/s\s*$")
_RATE_UNITS = {"B": 1, "KiB": 1024, "MiB": 1 << 20, "kbit": 125, "Mbit": 125_000}
MAX_DELAY = 10.0
MAX_LARGE_FILE = 64 << 20


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file; raises ScenarioError (or OSError)."""
    return parse_scenario(path.read_text(encoding="utf-8"), source=path.name)


def parse_scenario(text: str, *, source: str = "<scenario>") -> Scenario:
    """Validate a scenario given as TOML text; ``source`` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {exc}", source=source, line=None) from exc
    root = Document(data, text, source).root
    head = root.table("scenario")
    if head is None:
        root.fail(None, "the [scenario] section (name, description, country) is missing")
    name, description = head.text("name"), head.text("description")
    country = head.text("country", "ZZ")
    head.check("country", bool(re.fullmatch(r"[A-Z]{2}", country)), "expected a two-letter country code (IR)")
    head.finish()
    clients = _clients(root)
    pages = {n: _page(n, t) for n, t in root.subtables("pages")}
    read_hosts = [(t, _host(n, t, pages)) for n, t in root.subtables("hosts")]
    hosts = tuple(host for _, host in read_hosts)
    read_sites = [(t, _site(n, t, clients)) for n, t in root.subtables("sites")]
    if not read_sites:
        root.fail(None, 'a scenario needs at least one [sites."DOMAIN"] section')
    sites = tuple(site for _, site in read_sites)
    site_domains = {s.domain for s in sites}
    for t, site in read_sites:
        t.check("redirect", site.redirect is None or urlsplit(site.redirect).hostname in site_domains,
                f"{site.redirect} leads to a domain that is not one of the sites")
    host_names = {h.name for h in hosts}
    for t, host in read_hosts:
        t.check(None, host.name not in site_domains, f'"{host.name}" is a site too: rename the host')
    fixed = {h.address for h in hosts if h.address}
    scenario = Scenario(
        name=name, description=description, country=country, sites=sites, clients=clients,
        hosts=hosts, pages=tuple(pages.values()),
        dns=tuple(_dns_rule(t, host_names) for t in root.array("dns")),
        tcp=tuple(_tcp_rule(t, site_domains, fixed) for t in root.array("tcp")),
        tls=tuple(_tls_rule(t) for t in root.array("tls")),
        http=tuple(_http_rule(t, pages) for t in root.array("http")),
        throttle=tuple(_throttle_rule(t, site_domains, fixed) for t in root.array("throttle")),
        shutdown=tuple(_shutdown(t, clients) for t in root.array("shutdown")),
    )
    root.finish()
    return scenario


def _clients(root: Table) -> tuple[Client, ...]:
    clients = []
    for name, t in root.subtables("clients"):
        clients.append(Client(name=name, region=t.text("region", None), time=t.moment("time", None)))
        t.finish()
    return tuple(clients) or (Client(DEFAULT_CLIENT),)


def _page(name: str, t: Table) -> Page:
    headers = t.table("headers")
    pairs: list[tuple[str, str]] = []
    if headers is not None:
        for key in list(headers.data):
            pairs.append((key, headers.text(key)))
        headers.finish()
    page = Page(name=name, status=t.integer("status", 200, minimum=100, maximum=599),
                title=t.text("title", ""), body=t.text("body", ""), headers=tuple(pairs))
    t.finish()
    return page


def _host(name: str, t: Table, pages: dict[str, Page]) -> Host:
    address = t.text("address", None)
    if address is not None:
        _check_fixed_address(t, "address", address)
    page = t.text("page", None)
    t.check("page", page is None or page in pages, lambda: f'no [pages."{page}"] section defines it')
    t.finish()
    return Host(name=name, address=address, page=page)


def _check_fixed_address(t: Table, key: str, address: str) -> None:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        t.fail(key, f'"{address}" is not an IP address')
    t.check(key, not ip.is_global and not ip.is_loopback and not ip.is_unspecified,
            f"{address} must be a non-routable, non-loopback address (such as Iran's 10.10.34.35): "
            "routable addresses are allocated by the testbed so that no traffic can leave the machine")


def _site(domain: str, t: Table, clients: tuple[Client, ...]) -> Site:
    t.check(None, bool(_DOMAIN.match(domain)), f'"{domain}" is not a lower-case domain name (news.example)')
    url = t.text("url", f"https://{domain}/")
    parts = urlsplit(url)
    t.check("url", parts.scheme in ("http", "https") and parts.hostname == domain and parts.port is None
            and not parts.username, f"{url} must be an http:// or https:// URL of {domain}, without a port")
    redirect = t.text("redirect", None)
    if redirect is not None:
        target = urlsplit(redirect)
        usable = target.scheme in ("http", "https") and bool(target.hostname) and target.port is None
        t.check("redirect", usable,
                f"{redirect} must be an http:// or https:// URL without a port")
    site = Site(
        domain=domain, url=url, expect=_expect(t, clients), title=t.text("title", domain),
        body=t.text("body", ""), redirect=redirect,
        large_file=t.integer("large_file", 0, minimum=0, maximum=MAX_LARGE_FILE),
        down=t.flag("down", False), certificate=t.choice("certificate", Certificate, Certificate.VALID),
        delay=t.number("delay", 0.0, minimum=0.0, maximum=MAX_DELAY), challenge=t.flag("challenge", False),
    )
    t.finish()
    return site


def _technique(t: Table, key: str, value: object) -> Technique:
    try:
        return Technique(value)
    except ValueError:
        t.fail(key, f"{value!r} is not a technique; use one of {', '.join(x.value for x in Technique)}")


def _expect(t: Table, clients: tuple[Client, ...]) -> tuple[tuple[str, Technique], ...]:
    names = [c.name for c in clients]
    if not t.has("expect"):
        t.fail(None, 'the key "expect" is missing: every site states the verdict it must get')
    per_client = t.table("expect") if isinstance(t.data["expect"], dict) else None
    if per_client is None:
        technique = _technique(t, "expect", t.text("expect"))
        return tuple((name, technique) for name in names)
    expect = {}
    for name in list(per_client.data):
        per_client.check(name, name in names, f"there is no client {name!r} (clients: {', '.join(names)})")
        expect[name] = _technique(per_client, name, per_client.text(name))
    missing = [n for n in names if n not in expect]
    t.check("expect", not missing, lambda: f"no verdict for client(s) {', '.join(missing)}")
    per_client.finish()
    return tuple((name, expect[name]) for name in names)


def _match(t: Table, allowed: tuple[str, ...]) -> Match:
    given = [k for k in ("domain", "ip", "sni", "host") if t.has(k)]
    wrong = [k for k in given if k not in allowed]
    if wrong:
        t.fail(wrong[0], f"a [[{t.path[-2]}]] rule cannot be keyed by {wrong[0]}; "
                         f"use {' or '.join(allowed)}")
    if len(given) != 1:
        t.fail(None, f"a [[{t.path[-2]}]] rule needs exactly one of: {', '.join(allowed)}")
    key = given[0]
    values = tuple(v.lower() for v in t.names(key))
    if key != "ip":
        for v in values:
            t.check(key, bool(_DOMAIN.match(v)), f'"{v}" is not a domain name')
    return Match(**{{"domain": "domains", "ip": "ips", "sni": "snis", "host": "hosts"}[key]: values})


def _dns_rule(t: Table, hosts: set[str]) -> DnsRule:
    rule = DnsRule(match=_match(t, ("domain",)), action=t.choice("action", DnsAction),
                   answer=t.text("answer", None))
    forging = rule.action in (DnsAction.FORGE, DnsAction.INJECT)
    t.check(None, not forging or rule.answer is not None,
            f'{rule.action} needs "answer": the name of the host whose address the forged answer carries')
    t.check("answer", forging or rule.answer is None, f"{rule.action} sends no answer")
    t.check("answer", rule.answer is None or rule.answer in hosts,
            lambda: f'no [hosts."{rule.answer}"] section defines it')
    t.finish()
    return rule


def _check_ips(t: Table, match: Match, sites: set[str], fixed: set[str]) -> None:
    for ip in match.ips:
        t.check("ip", ip in fixed, f"no host has the address {ip}; sites get their addresses from the "
                                   "testbed, so key such rules by domain")
    for domain in match.domains:
        t.check("domain", domain in sites, f"{domain} is not one of the sites")


def _tcp_rule(t: Table, sites: set[str], fixed: set[str]) -> TcpRule:
    rule = TcpRule(match=_match(t, ("ip", "domain")), action=t.choice("action", TcpAction))
    _check_ips(t, rule.match, sites, fixed)
    t.finish()
    return rule


def _tls_rule(t: Table) -> TlsRule:
    rule = TlsRule(match=_match(t, ("sni",)), action=t.choice("action", TlsAction))
    t.finish()
    return rule


def _http_rule(t: Table, pages: dict[str, Page]) -> HttpRule:
    rule = HttpRule(match=_match(t, ("host",)), action=t.choice("action", HttpAction),
                    page=t.text("page", None))
    blockpage = rule.action is HttpAction.BLOCKPAGE
    t.check(None, not blockpage or rule.page is not None, 'blockpage needs "page": the page it injects')
    t.check("page", blockpage or rule.page is None, f"{rule.action} sends no page")
    t.check("page", rule.page is None or rule.page in pages,
            lambda: f'no [pages."{rule.page}"] section defines it')
    t.finish()
    return rule


def _throttle_rule(t: Table, sites: set[str], fixed: set[str]) -> ThrottleRule:
    match = _match(t, ("domain", "ip", "sni", "host"))
    if match.ips or match.domains:
        _check_ips(t, match, sites, fixed)
    rate = t.text("rate")
    m = _RATE.match(rate)
    if m is None:
        t.fail("rate", f'"{rate}" is not a rate such as "64 KiB/s" (units: {", ".join(_RATE_UNITS)} per s)')
    bytes_per_second = int(float(m.group(1)) * _RATE_UNITS[m.group(2)])
    t.check("rate", bytes_per_second >= 1, "the rate must be at least 1 B/s")
    t.finish()
    return ThrottleRule(match=match, bytes_per_second=bytes_per_second)


def _shutdown(t: Table, clients: tuple[Client, ...]) -> Shutdown:
    start, end = t.moment("start"), t.moment("end")
    t.check("end", type(start) is type(end), "start and end must both be date-times or both times of day")
    t.check("end", start != end, "the window is empty: it ends when it starts")
    t.check("end", not isinstance(start, datetime) or start < end, "the window ends before it starts")
    regions = t.names("regions")
    known = {c.region for c in clients if c.region}
    for region in regions:
        t.check("regions", region in known, f"no client is in region {region!r}")
    for c in clients:
        t.check("start", c.time is not None,
                f'client "{c.name}" has no time, so this window cannot apply: give [clients.{c.name}] a time')
    t.finish()
    return Shutdown(start=start, end=end, regions=regions)
