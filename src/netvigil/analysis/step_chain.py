"""Judge a test's endpoints step by step: DNS, then TCP, then TLS, then HTTP (pure).

The tests other than web_connectivity record the same df-00x steps but no
control.  Each endpoint they tried (a URL, a host and port, or a bare lookup)
is followed along its connection; the first step that failed decides, and the
verdict names the endpoint (``hostname`` and ``evidence.endpoint``) and the
step (``layer``, ``evidence.step``).  Whether the probe's network worked at all
is read from the same measurement: any routable answer or any completed
connection proves it.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import SplitResult, urlsplit

from netvigil.analysis.nettest_rules import ruling
from netvigil.analysis.rules import Hop
from netvigil.failures import Failure, is_eof, is_nxdomain, is_refused, is_reset, is_timeout, is_tls_certificate
from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.model.addresses import is_bogon
from netvigil.model.fingerprint import FingerprintMatch
from netvigil.model.steps import Steps
from netvigil.model.web_connectivity import SYSTEM_ENGINES, DNSQuery, HTTPTransaction, TCPConnect
from netvigil.model.verdict import LAYER_ORDER, Layer, Outcome, Technique, Verdict

# Failures the probe's own device or run produces: they say nothing about the path.
PROBE_SIDE = frozenset({
    Failure.NETWORK_UNREACHABLE, Failure.NETWORK_DOWN, Failure.ANDROID_DNS_CACHE_NO_DATA,
    Failure.INTERRUPTED, Failure.DNS_TEMPORARY_FAILURE, Failure.JSON_PARSE_ERROR,
})


@dataclass(frozen=True, slots=True)
class EndpointResult:
    """How far the connection to one endpoint got."""

    endpoint: str  # "https://host/path", "host:port" or "dns:host"
    hostname: str
    layer: Layer  # the step that failed, or the last step that succeeded
    failure: str | None
    lookup_only: bool = False
    bogon: bool = False
    detail: dict[str, Any] = field(default_factory=dict)
    request: HTTPTransaction | None = None  # the fetch, for blockpage fingerprints


def is_probe_side(failure: str | None) -> bool:
    return failure is not None and (failure in PROBE_SIDE or failure.startswith("unknown_failure"))


def network_worked(steps: Steps) -> bool:
    """Some step succeeded: a routable answer or a completed connection."""
    if any(t.success for t in steps.tcp_connect):
        return True
    return any(a.value and _is_ip(a.value) and not is_bogon(a.value) for q in steps.queries for a in q.answers)


def endpoint_results(steps: Steps, addrs: _Index | None = None) -> list[EndpointResult]:
    """One result per URL fetched, per (host, port) connected without a fetch, per bare lookup."""
    addrs = addrs or _addresses(steps)
    host_of_ip = {ip: host for host, ips in addrs.ips.items() for ip in ips}
    results: list[EndpointResult] = []
    covered: set[tuple[str, int]] = set()
    for req in steps.requests:
        if not req.url:
            continue
        url = urlsplit(req.url)
        host = (url.hostname or "").lower()
        port = _port(url)
        covered.add((host, port))
        results.append(_follow_request(req, host, port, url.scheme, steps, addrs))
    tcp_groups: dict[tuple[str, int], list[TCPConnect]] = defaultdict(list)
    for t in steps.tcp_connect:
        tcp_groups[(host_of_ip.get(t.ip, t.ip), t.port)].append(t)
    for (host, port), connects in sorted(tcp_groups.items()):
        if (host, port) not in covered:
            results.append(_follow_connects(host, port, connects, steps, addrs))
    connected = {host for host, _ in covered} | {host for host, _ in tcp_groups}
    transport_failed = any(r.failure is not None for r in results)
    for host in sorted(h for h in addrs.queries if h and h not in connected):
        lookup = _lookup_only(host, steps, addrs)
        if lookup.failure is not None and transport_failed and _over_encrypted_transport(host, steps):
            continue  # a DoT/DoH lookup fails because its connection did: that verdict explains it
        results.append(lookup)
    return results


def _over_encrypted_transport(host: str, steps: Steps) -> bool:
    """The lookups of ``host`` went to a resolver over its own connection (dnscheck's DoT, DoH, TCP)."""
    return any(q.hostname.lower() == host and q.engine not in SYSTEM_ENGINES for q in steps.queries)


def endpoint_verdict(r: EndpointResult, *, network_ok: bool) -> Verdict:
    """The rule that explains one endpoint's result."""
    at = Hop(r.hostname, 0)
    ev = dict(endpoint=r.endpoint, step=r.layer.value, failure=r.failure, **r.detail)
    if r.bogon:
        rule_id = "steps.bogon_not_used" if r.lookup_only else "steps.bogon_answer"
        return _at(ruling(rule_id).verdict(Technique.DNS_BOGON, at=at, **ev), Layer.DNS)
    if r.failure is None:
        if r.lookup_only:
            return ruling("steps.lookup_ok").verdict(Technique.OK, at=at, **ev)
        return _at(ruling("steps.reached").verdict(Technique.OK, at=at, **ev), r.layer)
    technique = failure_technique(r.layer, r.failure)
    if is_probe_side(r.failure):
        return _at(ruling("steps.probe_side_failure").verdict(technique, at=at, **ev), r.layer)
    if r.layer is Layer.TLS and is_tls_certificate(r.failure):
        return ruling("steps.certificate_unverified").verdict(Technique.TLS_MITM, at=at, **ev)
    rule_id = "steps.failed_network_ok" if network_ok else "steps.failed_nothing_worked"
    return _at(ruling(rule_id).verdict(technique, at=at, **ev), r.layer)


def judge_endpoints(steps: Steps, *, network_ok: bool | None = None, fingerprints: FingerprintDB | None = None,
                    probe_cc: str = "ZZ") -> list[Verdict]:
    """Verdicts for every endpoint; ``network_ok`` from elsewhere (dnscheck's bootstrap) or from ``steps``.

    A blocking fingerprint that confirms blocking in ``probe_cc`` (a national
    blockpage, a filtering resolver's address) decides its endpoint outright.
    """
    ok = network_worked(steps) if network_ok is None else network_ok or network_worked(steps)
    addrs = _addresses(steps)
    verdicts = []
    for r in endpoint_results(steps, addrs):
        found = _fingerprinted(r, addrs, fingerprints, probe_cc) if fingerprints is not None else None
        verdicts.append(found or endpoint_verdict(r, network_ok=ok))
    return verdicts


def _fingerprinted(r: EndpointResult, addrs: _Index, fingerprints: FingerprintDB, probe_cc: str) -> Verdict | None:
    at = Hop(r.hostname, 0)
    for ip in sorted(addrs.get(r.hostname, ())):
        match = fingerprints.match_dns(ip)
        if match is not None and match.confirms_blocking(probe_cc):
            return _at(ruling("steps.dns_fingerprint").verdict(
                Technique.DNS_BOGON if is_bogon(ip) else Technique.DNS_SPOOF, at=at, endpoint=r.endpoint,
                step="dns", answer=ip, **_fingerprint_evidence(match)), Layer.DNS)
    req = r.request
    if req is None or not (req.body or req.headers):
        return None
    matches = fingerprints.match_http(req.body, req.headers)
    if not matches or matches[0].false_positive:  # false positives take precedence (a CDN challenge page)
        return None
    confirming = [m for m in matches if m.confirms_blocking(probe_cc)]
    if not confirming:
        return None
    return _at(ruling("steps.blockpage_fingerprint").verdict(
        Technique.HTTP_BLOCKPAGE, at=at, endpoint=r.endpoint, step="http", status_code=req.status_code,
        **_fingerprint_evidence(confirming[0])), Layer.HTTP)


def _fingerprint_evidence(m: FingerprintMatch) -> dict[str, Any]:
    return dict(fingerprint=m.fingerprint_id, fingerprint_scope=m.scope, fingerprint_countries=list(m.countries) or None)


def first_blocked(verdicts: list[Verdict]) -> Verdict | None:
    """The earliest-layer blocked verdict (DNS explains TCP explains TLS explains HTTP)."""
    blocked = [v for v in verdicts if v.outcome is Outcome.BLOCKED]
    return min(blocked, key=lambda v: LAYER_ORDER[v.layer]) if blocked else None


# Keyed by str: a failure arrives as the normalised string, and a Failure member equals its value.
_DNS_TECHNIQUES: dict[str, Technique] = {
    Failure.DNS_REFUSED_ERROR: Technique.DNS_REFUSED, Failure.DNS_SERVFAIL_ERROR: Technique.DNS_SERVFAIL,
    Failure.GENERIC_TIMEOUT_ERROR: Technique.DNS_TIMEOUT,
}


def failure_technique(layer: Layer, failure: str) -> Technique:
    if layer is Layer.DNS:
        if is_nxdomain(failure):
            return Technique.DNS_NXDOMAIN
        return _DNS_TECHNIQUES.get(failure, Technique.DNS_FAILURE)
    if layer is Layer.TCP:
        if is_timeout(failure):
            return Technique.TCP_TIMEOUT
        if is_refused(failure) or is_reset(failure):  # a RST answering the SYN is a refusal
            return Technique.TCP_REFUSED
        return Technique.TCP_UNREACHABLE
    if layer is Layer.TLS:
        return _by_kind(failure, Technique.TLS_RESET, Technique.TLS_TIMEOUT, Technique.TLS_EOF, Technique.TLS_FAILURE,
                        cert=Technique.TLS_MITM)
    if layer is Layer.UDP:
        return Technique.UDP_TIMEOUT if is_timeout(failure) else Technique.UDP_FAILURE
    return _by_kind(failure, Technique.HTTP_RESET, Technique.HTTP_TIMEOUT, Technique.HTTP_EOF, Technique.HTTP_FAILURE)


# --- following one endpoint -------------------------------------------------------------


def _follow_request(req: HTTPTransaction, host: str, port: int, scheme: str, steps: Steps, addrs: _Index) -> EndpointResult:
    name = req.url
    dns = _dns_step(host, steps, addrs)
    if dns is not None:
        return EndpointResult(name, host, Layer.DNS, dns[0], bogon=dns[1], detail=dns[2], request=req)
    ips = _ips_for(host, addrs)
    connects = [t for t in steps.tcp_connect if t.ip in ips and t.port == port]
    tcp = _tcp_step(connects)
    if tcp is not None:
        return EndpointResult(name, host, Layer.TCP, tcp, detail=_tcp_detail(connects), request=req)
    if scheme == "https":
        shakes = [h for h in steps.tls_handshakes
                  if h.server_name.lower() == host or _address_ip(h.address) in ips]
        if shakes and not any(h.failure is None for h in shakes):
            return EndpointResult(name, host, Layer.TLS, shakes[0].failure, detail=dict(server_name=host),
                                  request=req)
    if req.failure is not None:
        layer = _layer_of_request_failure(req.failure, scheme)
        return EndpointResult(name, host, layer, req.failure, detail=dict(status_code=req.status_code),
                              request=req)
    return EndpointResult(name, host, Layer.HTTP, None, detail=dict(status_code=req.status_code),
                          request=req)


def _follow_connects(host: str, port: int, connects: Sequence[TCPConnect], steps: Steps,
                     addrs: _Index) -> EndpointResult:
    name = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
    if not _is_ip(host):
        dns = _dns_step(host, steps, addrs)
        if dns is not None:
            return EndpointResult(name, host, Layer.DNS, dns[0], bogon=dns[1], detail=dns[2])
    return EndpointResult(name, host, Layer.TCP, _tcp_step(connects), detail=_tcp_detail(connects))


def _lookup_only(host: str, steps: Steps, addrs: _Index) -> EndpointResult:
    dns = _dns_step(host, steps, addrs)
    if dns is None:
        return EndpointResult(f"dns:{host}", host, Layer.DNS, None, lookup_only=True,
                              detail=dict(answers=sorted(addrs.get(host, ()))))
    return EndpointResult(f"dns:{host}", host, Layer.DNS, dns[0], lookup_only=True, bogon=dns[1], detail=dns[2])


def _dns_step(host: str, steps: Steps, addrs: _Index) -> tuple[str | None, bool, dict[str, Any]] | None:
    """(failure, bogon, detail) when resolving ``host`` went wrong, None when it did not (or was not done)."""
    queries = addrs.queries.get(host)
    if not queries or _is_ip(host):
        return None
    ips = addrs.get(host, set())
    if ips:
        if all(is_bogon(ip) for ip in ips):
            return None, True, dict(answers=sorted(ips))
        return None
    failure = next((q.failure for q in queries if q.failure), Failure.DNS_NO_ANSWER.value)
    return failure, False, dict(resolver=queries[0].resolver_address or queries[0].engine)


def _tcp_step(connects: Sequence[TCPConnect]) -> str | None:
    if not connects or any(t.success for t in connects):
        return None
    return next((t.failure for t in connects if t.failure), Failure.GENERIC_TIMEOUT_ERROR.value)


def _tcp_detail(connects: Sequence[TCPConnect]) -> dict[str, Any]:
    return dict(connects=len(connects), connected=sum(1 for t in connects if t.success)) if connects else {}


def _layer_of_request_failure(failure: str, scheme: str) -> Layer:
    """A request failure with no failed step recorded before it: place it by its kind."""
    if is_tls_certificate(failure) or (failure == Failure.SSL_FAILED_HANDSHAKE):
        return Layer.TLS
    if failure.startswith("dns_") or is_nxdomain(failure):
        return Layer.DNS
    if is_refused(failure):
        return Layer.TCP
    return Layer.HTTP


@dataclass(slots=True)
class _Index:
    """The measurement's DNS, by hostname: answered addresses and the queries themselves."""

    ips: dict[str, set[str]]
    queries: dict[str, list[DNSQuery]]

    def get(self, host: str, default: Collection[str] = ()) -> Collection[str]:
        return self.ips.get(host, default)


def _addresses(steps: Steps) -> _Index:
    index = _Index(defaultdict(set), defaultdict(list))
    for q in steps.queries:
        host = q.hostname.lower()
        index.queries[host].append(q)
        for a in q.answers:
            if a.value and _is_ip(a.value):
                index.ips[host].add(a.value)
    return index


def _ips_for(host: str, addrs: _Index) -> set[str]:
    return {host} if _is_ip(host) else set(addrs.get(host, ())) | {host}


def _address_ip(address: str) -> str:
    host, _, _ = address.rpartition(":")
    return host.strip("[]")


def _port(url: SplitResult) -> int:
    try:
        if url.port:
            return url.port
    except ValueError:
        pass
    return 443 if url.scheme == "https" else 80


@lru_cache(maxsize=65536)
def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return False
    return True


def _by_kind(failure: str, reset: Technique, timeout: Technique, eof: Technique, other: Technique,
             *, cert: Technique | None = None) -> Technique:
    if cert is not None and is_tls_certificate(failure):
        return cert
    if is_reset(failure):
        return reset
    if is_timeout(failure):
        return timeout
    if is_eof(failure):
        return eof
    return other


def _at(v: Verdict, layer: Layer) -> Verdict:
    """The rule's verdict placed at the step it is about."""
    return Verdict(layer=layer, technique=v.technique, outcome=v.outcome, confidence=v.confidence, rule=v.rule,
                   hostname=v.hostname, depth=v.depth, evidence=v.evidence)


@dataclass(frozen=True, slots=True)
class Judgement:
    """What a test family's analysis returns: the verdicts and the one that explains the measurement."""

    verdicts: tuple[Verdict, ...]
    summary: Verdict


def no_data(reason: str, **evidence: Any) -> Judgement:
    v = ruling("steps.no_data").verdict(Technique.UNKNOWN, at=Hop("", 0), reason=reason, **evidence)
    return Judgement((), v)


def summarize_endpoints(verdicts: list[Verdict], *, probe_status: dict[str, Any] | None = None) -> Verdict:
    """The verdict that explains a measurement made of endpoints.

    The earliest-layer ``blocked`` endpoint; else ``ok`` when every endpoint was
    reached, or when those not reached failed only for the probe's own reasons
    (listed as ``unjudged``); else the most confident ``unknown``.
    """
    status = probe_status
    blocked = first_blocked(verdicts)
    if blocked is not None:
        return _with(blocked, probe_status=status)
    ok = [v for v in verdicts if v.outcome is Outcome.OK]
    # A published loopback answer no connection used (uptime.signal.org) is neither reached nor unjudged.
    unjudged = [v for v in verdicts if v.outcome is not Outcome.OK and not v.rule.startswith("steps.bogon_not_used@")]
    at = Hop("", 0)
    if ok and not unjudged:
        return ruling("steps.all_reached").verdict(Technique.OK, at=at, endpoints=len(ok), probe_status=status)
    if ok and all(v.confidence <= 0.4 for v in unjudged):
        return ruling("steps.partly_judged").verdict(
            Technique.OK, at=at, endpoints=len(ok), probe_status=status,
            unjudged=[{"endpoint": v.evidence.get("endpoint"), "step": v.layer.value, "failure": v.evidence.get("failure"),
                       "rule": v.rule} for v in unjudged])
    if unjudged:
        return _with(max(unjudged, key=lambda v: v.confidence), probe_status=status)
    return no_data("no endpoint could be followed", probe_status=status).summary


def _with(v: Verdict, **evidence: Any) -> Verdict:
    extra = {k: val for k, val in evidence.items() if val is not None}
    if not extra:
        return v
    return Verdict(layer=v.layer, technique=v.technique, outcome=v.outcome, confidence=v.confidence, rule=v.rule,
                   hostname=v.hostname, depth=v.depth, evidence={**v.evidence, **extra})
