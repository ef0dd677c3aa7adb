"""A scenario's censor rules -> the loopback censor's behaviours, per client.

This is where the backend-neutral rules of :mod:`netvigil.testbed.scenarios.scenario`
meet the loopback mechanisms: a DNS rule becomes a behaviour of the censored
DNS server; a TCP rule acts before the SOCKS reply; TLS and HTTP rules act on
the client's first bytes; throttling rules become rate caps; a shutdown that
covers a client at its time silences that client's DNS server and middle.
"""

from __future__ import annotations

from netvigil.testbed.addressing import AddressPlan
from netvigil.testbed.censor import (
    Action,
    AnyOf,
    CensorRule,
    Close,
    InjectPage,
    NameIn,
    RateCap,
    Refuse,
    Reset,
    Silence,
    StreamPolicy,
    ToAddress,
    Trigger,
)
from netvigil.testbed.dns_censor import (
    DnsBehaviour,
    DnsCensorRule,
    DnsPolicy,
    DropQuery,
    Forge,
    Inject,
    Nxdomain,
    Zone,
)
from netvigil.testbed.intercept import Intercept
from netvigil.testbed.pki import TestbedPKI
from netvigil.testbed.scenarios.scenario import (
    Client,
    DnsAction,
    DnsRule,
    HttpAction,
    HttpRule,
    Match,
    Scenario,
    TcpAction,
    TlsAction,
)
from netvigil.testbed.wire import Protocol


def cut_off(scenario: Scenario, client: Client) -> bool:
    return any(s.active(client) for s in scenario.shutdown)


def dns_policy(scenario: Scenario, plan: AddressPlan, client: Client | None) -> DnsPolicy:
    """The censored resolver of ``client``; ``None`` gives the clean resolver (the truth)."""
    zone = Zone(plan.zone(scenario))
    if client is None:
        return DnsPolicy(zone)
    rules = tuple(DnsCensorRule(rule.match.domains, _dns_behaviour(rule, plan)) for rule in scenario.dns)
    return DnsPolicy(zone, rules, cut_off=cut_off(scenario, client))


def _dns_behaviour(rule: DnsRule, plan: AddressPlan) -> DnsBehaviour:
    if rule.action is DnsAction.NXDOMAIN:
        return Nxdomain()
    if rule.action is DnsAction.TIMEOUT:
        return DropQuery()
    assert rule.answer is not None
    address = plan.of(rule.answer).advertised
    return Forge(address) if rule.action is DnsAction.FORGE else Inject(address)


def stream_policy(scenario: Scenario, plan: AddressPlan, pki: TestbedPKI, client: Client) -> StreamPolicy:
    """The censoring middle's rules for ``client``."""
    tcp_actions = {TcpAction.BLACKHOLE: Silence(), TcpAction.REFUSE: Refuse()}
    tls_actions = {TlsAction.RESET: Reset(), TlsAction.DROP: Silence(), TlsAction.INTERCEPT: Intercept(pki)}
    on_connect = tuple(CensorRule(trigger(r.match, plan), tcp_actions[r.action]) for r in scenario.tcp)
    on_tls = tuple(CensorRule(trigger(r.match, plan), tls_actions[r.action]) for r in scenario.tls)
    on_http = tuple(CensorRule(trigger(r.match, plan), _http_action(scenario, r)) for r in scenario.http)
    caps = tuple(RateCap(trigger(r.match, plan), r.bytes_per_second) for r in scenario.throttle)
    return StreamPolicy(cut_off=cut_off(scenario, client), on_connect=on_connect,
                        on_first_bytes=on_tls + on_http, caps=caps)


def _http_action(scenario: Scenario, rule: HttpRule) -> Action:
    if rule.action is HttpAction.BLOCKPAGE:
        assert rule.page is not None
        return InjectPage(scenario.page(rule.page))
    return {HttpAction.RESET: Reset(), HttpAction.CLOSE: Close(), HttpAction.TIMEOUT: Silence()}[rule.action]


def trigger(match: Match, plan: AddressPlan) -> Trigger:
    """What a :class:`Match` looks for on a connection.

    An IP matches the destination; an SNI or a Host matches the first bytes; a
    domain matches the destination when it is a site's address, and the SNI or
    Host when they name it (or a subdomain).
    """
    if match.ips:
        return ToAddress(frozenset(match.ips))
    if match.snis:
        return NameIn(Protocol.TLS, match.snis)
    if match.hosts:
        return NameIn(Protocol.HTTP, match.hosts)
    addresses = frozenset(plan.of(d).advertised for d in match.domains)
    by_name = (NameIn(Protocol.TLS, match.domains), NameIn(Protocol.HTTP, match.domains))
    return AnyOf((ToAddress(addresses), *by_name))
