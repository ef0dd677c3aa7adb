"""A scenario's censor rules -> packet rules for the router namespace (pure functions).

Namespace mode's counterpart of :mod:`netvigil.testbed.policy`.  The censor
acts in-path, on the packets the router forwards:

=====================  ==================================================================
scenario rule          what the router does
=====================  ==================================================================
shutdown               every packet arriving from the cut-off client's interface: DROP
tcp blackhole/refuse   packets to the address: DROP / ``REJECT --reject-with tcp-reset``
tls reset/drop         the packet whose ClientHello carries the SNI (iptables ``string``
                       match on the length-prefixed name): REJECT tcp-reset / DROP
http reset/timeout     the packet carrying ``Host: NAME``: REJECT tcp-reset / DROP
tls intercept          DNAT of port 443 of the SNI's sites to the interceptor, whose
                       certificate comes from the untrusted censor CA
http blockpage/close   DNAT of port 80 of the Host's sites to a responder that answers
                       the request with the page / with a FIN
dns (every rule)       DNAT of the client's queries to the resolver to the censor's own
                       DNS server for that client (as jafar does), which applies the
                       DNS rules: NXDOMAIN, forged answer, silence, forged answer racing
                       the true one
throttle               ``tc``: an htb class per rule on the client's interface, capped by
                       a tbf qdisc, fed by u32 filters on the throttled sites' addresses
=====================  ==================================================================

A DNAT decision is taken on a connection's first packet, before any SNI or
Host is sent, so the rules that must *answer* (intercept, blockpage, close)
are keyed by the addresses of the sites the SNI or Host names; the rules that
only drop or reset see the name itself.  Censor rules match the connection's
original destination (``conntrack --ctorigdst``), and run on INPUT as well as
FORWARD, so shutdowns and TCP rules apply to diverted connections too; name
rules do not (a connection diverted to a responder is that rule's, even if
another rule names the same site).  Name patterns are a
name and its subdomains, as :func:`~netvigil.testbed.scenarios.scenario.domain_matches`
says, up to what a substring match can tell (``.name`` anywhere in the packet).
"""

from __future__ import annotations

from dataclasses import dataclass

from netvigil.testbed.addressing import AddressPlan
from netvigil.testbed.netns.layout import CENSOR_SERVICES, RESOLVER, Layout
from netvigil.testbed.policy import cut_off
from netvigil.testbed.scenarios.scenario import (
    HttpAction,
    HttpRule,
    Match,
    Scenario,
    TcpAction,
    TlsAction,
    TlsRule,
    domain_matches,
)

CHAIN = "CENSOR"
HTTP_PORT, HTTPS_PORT = 80, 443
DNS_PORT = 53
RESET = "REJECT --reject-with tcp-reset"
UNCAPPED = "10gbit"
HTB_QUANTUM = 60000  # bytes; silences htb's warning about the quantum of a 10 Gbit/s class
TBF_LATENCY = "100ms"
MIN_BURST = 8192  # bytes: at least a few full-size packets


@dataclass(frozen=True, slots=True)
class Diversion:
    """Connections the censor answers itself: port ``port`` of ``addresses``, DNATed to a responder."""

    key: str
    addresses: tuple[str, ...]
    port: int
    rule: TlsRule | HttpRule


def addresses_of(match: Match, scenario: Scenario, plan: AddressPlan) -> tuple[str, ...]:
    """The destination addresses a rule stands for: its IPs, or the sites its names cover."""
    if match.ips:
        return match.ips
    names = match.domains or match.snis or match.hosts
    return tuple(plan.of(s.domain).advertised for s in scenario.sites
                 if any(domain_matches(s.domain, name) for name in names))


def diversions(scenario: Scenario, plan: AddressPlan) -> tuple[Diversion, ...]:
    """Every rule that needs a responder, with a key both the router and the censor process use."""
    found = [Diversion(f"tls-{i}", addresses_of(r.match, scenario, plan), HTTPS_PORT, r)
             for i, r in enumerate(scenario.tls) if r.action is TlsAction.INTERCEPT]
    found += [Diversion(f"http-{i}", addresses_of(r.match, scenario, plan), HTTP_PORT, r)
              for i, r in enumerate(scenario.http) if r.action in (HttpAction.BLOCKPAGE, HttpAction.CLOSE)]
    return tuple(found)


def iptables_document(scenario: Scenario, plan: AddressPlan, layout: Layout, dns_ports: dict[str, int],
                      responder_ports: dict[str, int]) -> str:
    """The router's whole ruleset, for one atomic ``iptables-restore``."""
    return "\n".join([
        "*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", f":{CHAIN} - [0:0]",
        *(f"-A {hook} -i {c.interface} -j {CHAIN}" for c in layout.clients for hook in ("FORWARD", "INPUT")),
        *_censor_chain(scenario, plan, layout),
        "COMMIT",
        "*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
        ":POSTROUTING ACCEPT [0:0]",
        *_dns_hijack(layout, dns_ports),
        *_diverted(scenario, plan, layout, responder_ports),
        "COMMIT", "",
    ])


def _censor_chain(scenario: Scenario, plan: AddressPlan, layout: Layout) -> list[str]:
    lines = [f"-A {CHAIN} -i {c.interface} -j DROP" for c, sc in zip(layout.clients, scenario.clients, strict=True)
             if cut_off(scenario, sc)]
    tcp_targets = {TcpAction.BLACKHOLE: "DROP", TcpAction.REFUSE: RESET}
    for tcp in scenario.tcp:
        lines += [f"-A {CHAIN} -p tcp -m conntrack --ctorigdst {a} -j {tcp_targets[tcp.action]}"
                  for a in addresses_of(tcp.match, scenario, plan)]
    lines.append(f"-A {CHAIN} -m conntrack --ctstate DNAT -j RETURN")  # diverted: the responder decides
    tls_targets = {TlsAction.RESET: RESET, TlsAction.DROP: "DROP"}
    for tls in scenario.tls:
        if tls.action in tls_targets:
            lines += [_string_rule(HTTPS_PORT, p, tls_targets[tls.action]) for p in _sni_patterns(tls.match)]
    http_targets = {HttpAction.RESET: RESET, HttpAction.TIMEOUT: "DROP"}
    for http in scenario.http:
        if http.action in http_targets:
            lines += [_string_rule(HTTP_PORT, p, http_targets[http.action], icase=True)
                      for p in _host_patterns(http.match)]
    return lines


def _string_rule(port: int, pattern: str, target: str, *, icase: bool = False) -> str:
    case = " --icase" if icase else ""
    return (f"-A {CHAIN} -p tcp -m conntrack --ctorigdstport {port} -m string --algo bm{case} "
            f'--hex-string "{pattern}" -j {target}')


def _sni_patterns(match: Match) -> list[str]:
    """The server_name entry (type 0, 16-bit length, name) for the name; ``.name`` for subdomains."""
    return [p for name in match.snis for p in (f"|00{len(name):04x}|{name}", f".{name}")]


def _host_patterns(match: Match) -> list[str]:
    """``Host: name`` ending the line or followed by a port; ``.name`` ending a line for subdomains."""
    return [p for name in match.hosts for p in (f"Host: {name}|0d0a|", f"Host: {name}:", f".{name}|0d0a|")]


def _dns_hijack(layout: Layout, dns_ports: dict[str, int]) -> list[str]:
    return [f"-A PREROUTING -i {c.interface} -d {RESOLVER} -p {proto} --dport {DNS_PORT} "
            f"-j DNAT --to-destination {CENSOR_SERVICES}:{dns_ports[c.name]}"
            for c in layout.clients for proto in ("udp", "tcp")]


def _diverted(scenario: Scenario, plan: AddressPlan, layout: Layout,
              responder_ports: dict[str, int]) -> list[str]:
    return [f"-A PREROUTING -i {c.interface} -d {a} -p tcp --dport {d.port} "
            f"-j DNAT --to-destination {CENSOR_SERVICES}:{responder_ports[d.key]}"
            for d in diversions(scenario, plan) for a in d.addresses for c in layout.clients]


def tc_batch(scenario: Scenario, plan: AddressPlan, interface: str) -> list[str]:
    """``tc -batch`` lines capping, on ``interface``, what throttled sites send to its client.

    The loopback censor takes the lowest of the caps that match a connection;
    here the filters are tried slowest class first, which gives the same.
    """
    if not scenario.throttle:
        return []
    lines = [f"qdisc add dev {interface} root handle 1: htb default 1",
             f"class add dev {interface} parent 1: classid 1:1 htb rate {UNCAPPED} quantum {HTB_QUANTUM}"]
    ordered = sorted(scenario.throttle, key=lambda rule: rule.bytes_per_second)
    for n, rule in enumerate(ordered, start=10):
        rate = rule.bytes_per_second
        burst = max(MIN_BURST, rate // 10)
        lines += [f"class add dev {interface} parent 1: classid 1:{n} htb rate {UNCAPPED} quantum {HTB_QUANTUM}",
                  (f"qdisc add dev {interface} parent 1:{n} handle {n}: tbf rate {rate * 8}bit burst {burst} "
                   f"latency {TBF_LATENCY}")]
        lines += [f"filter add dev {interface} parent 1: protocol ip prio {n} u32 match ip src {a}/32 flowid 1:{n}"
                  for a in addresses_of(rule.match, scenario, plan)]
    return lines
