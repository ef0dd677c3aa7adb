"""Measurement -> observations (pure: no I/O, reference data passed in).

The probe's facts are laid beside the control's so that rules can judge each
row alone.  The "reference" for a hostname's DNS is what an unfiltered view
resolved: the test helper's answer for the input's hostname, plus any
DNS-over-HTTPS answers the probe obtained (encrypted, so not forged on path).
Plain DNS over UDP is never a reference: on-path injectors forge it too.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.model.addresses import is_bogon
from netvigil.model.observation import (
    DNSObservation,
    EndpointObservation,
    HTTPObservation,
    Observations,
)
from netvigil.model.web_connectivity import (
    Control,
    DNSQuery,
    HTTPTransaction,
    TLSHandshake,
    WebConnectivityKeys,
    join_endpoint,
    split_endpoint,
)

TRUSTED_ENGINES = frozenset({"doh"})


def hostname_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def scheme_of(url: str) -> str:
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:
        return ""


class _Reference:
    """Addresses an unfiltered resolver gave for each hostname, and their ASNs."""

    def __init__(self, input_host: str, keys: WebConnectivityKeys) -> None:
        self.addrs: dict[str, set[str]] = {}
        self.failure: dict[str, str | None] = {}
        self.asns: dict[str, set[int]] = {}
        self.ip_asn: dict[str, int] = {}
        control = keys.control
        if control is not None:
            self.ip_asn.update(control.ip_asn)
            if control.dns_measured and input_host:
                self.addrs.setdefault(input_host, set()).update(control.dns_addrs)
                self.failure[input_host] = control.dns_failure
        for q in keys.queries:
            for a in q.answers:
                if a.asn:
                    self.ip_asn.setdefault(a.value, a.asn)
            if q.engine in TRUSTED_ENGINES and q.hostname:
                host = q.hostname.lower()
                self.addrs.setdefault(host, set()).update(q.addresses())
                # One successful DoH lookup outweighs a failed one (e.g. AAAA with no answer).
                if q.failure is None:
                    self.failure[host] = None
                else:
                    self.failure.setdefault(host, q.failure)
        for host, addrs in self.addrs.items():
            self.asns[host] = {self.ip_asn[a] for a in addrs if self.ip_asn.get(a)}

    def measured(self, host: str) -> bool:
        return host in self.addrs or host in self.failure


def build_observations(
    input_url: str, keys: WebConnectivityKeys, fingerprints: FingerprintDB
) -> Observations:
    input_host = hostname_of(input_url)
    ref = _Reference(input_host, keys)
    verified = _tls_verified_ips(keys)
    dns = tuple(
        row
        for q in keys.queries
        if q.query_type != "CNAME"
        for row in _dns_rows(q, ref, verified, fingerprints)
    )
    expected = _expected_addresses(dns)
    return Observations(
        input=input_url,
        dns=dns,
        endpoints=_endpoint_rows(keys, expected),
        http=_http_rows(keys, fingerprints),
        control_available=keys.control is not None and keys.control_failure is None,
        control_fetched=_control_fetched(keys),
    )


def _control_fetched(keys: WebConnectivityKeys) -> bool:
    http = keys.control.http if keys.control is not None else None
    return (keys.control_failure is None and http is not None
            and http.failure is None and http.status_code is not None)


def _tls_verified_ips(keys: WebConnectivityKeys) -> dict[str, set[str]]:
    """IP -> hostnames it proved to serve with a certificate validated by probe or helper."""
    proven: dict[str, set[str]] = {}
    for h in keys.tls_handshakes:
        if h.failure is None and not h.no_tls_verify and h.server_name:
            ip, _ = split_endpoint(h.address)
            proven.setdefault(ip, set()).add(h.server_name.lower())
    control = keys.control
    if control is not None:
        for endpoint, step in control.tls.items():
            if step.success and step.server_name:
                ip, _ = split_endpoint(endpoint)
                proven.setdefault(ip, set()).add(step.server_name.lower())
    return proven


def _dns_rows(
    q: DNSQuery, ref: _Reference, verified: dict[str, set[str]], fingerprints: FingerprintDB
) -> list[DNSObservation]:
    host = q.hostname.lower()
    measured = ref.measured(host)
    ref_addrs = ref.addrs.get(host, set())
    ref_asns = ref.asns.get(host, set())
    common: dict[str, Any] = dict(
        hostname=host, depth=q.depth, engine=q.engine, resolver=q.resolver_address, classic=q.classic,
        query_type=q.query_type, failure=q.failure, reference_failure=ref.failure.get(host),
        reference_measured=measured, reference_addrs=tuple(sorted(ref_addrs)),
    )
    if not q.answers:
        return [DNSObservation(**common, answer=None, answer_asn=None, is_bogon=False,
                               in_reference=None, asn_in_reference=None, tls_consistent=False,
                               fingerprint=None)]
    rows = []
    for a in q.answers:
        if a.answer_type not in ("A", "AAAA"):
            continue
        asn = a.asn or ref.ip_asn.get(a.value)
        rows.append(DNSObservation(
            **common,
            answer=a.value,
            answer_asn=asn,
            is_bogon=is_bogon(a.value),
            in_reference=(a.value in ref_addrs) if ref_addrs else None,
            asn_in_reference=(asn in ref_asns) if (ref_asns and asn) else None,
            tls_consistent=host in verified.get(a.value, ()),
            fingerprint=fingerprints.match_dns(a.value),
        ))
    return rows


def _expected_addresses(dns: tuple[DNSObservation, ...]) -> dict[str, bool | None]:
    """Per answer IP: True when consistent with the reference, False when not, None unknown."""
    expected: dict[str, bool | None] = {}
    for row in dns:
        if row.answer is None:
            continue
        if row.tls_consistent or row.in_reference or row.asn_in_reference:
            expected[row.answer] = True
        elif row.in_reference is False and expected.get(row.answer) is not True:
            expected[row.answer] = False
        else:
            expected.setdefault(row.answer, None)
    return expected


def _endpoint_rows(
    keys: WebConnectivityKeys, expected: dict[str, bool | None]
) -> tuple[EndpointObservation, ...]:
    control = keys.control or Control(None, (), False)
    tls_by_key: dict[tuple[str, int], TLSHandshake] = {}
    for h in keys.tls_handshakes:
        tls_by_key.setdefault((h.address, h.depth), h)
    hosts = _hostnames_by_ip(keys)
    rows = []
    for t in keys.tcp_connect:
        endpoint = join_endpoint(t.ip, t.port)
        handshake = tls_by_key.get((endpoint, t.depth)) or tls_by_key.get((f"{t.ip}:{t.port}", t.depth))
        rows.append(EndpointObservation(
            hostname=handshake.server_name.lower() if handshake else hosts.get((t.ip, t.depth), ""),
            depth=t.depth,
            ip=t.ip,
            port=t.port,
            tcp_success=t.success,
            tcp_failure=t.failure,
            tls_measured=handshake is not None,
            tls_failure=handshake.failure if handshake else None,
            tls_server_name=handshake.server_name if handshake else None,
            ctrl_tcp=control.tcp.get(endpoint),
            ctrl_tls=control.tls.get(endpoint),
            address_expected=expected.get(t.ip),
            on_path=t.fetch_body,
        ))
    return tuple(rows)


def _hostnames_by_ip(keys: WebConnectivityKeys) -> dict[tuple[str, int], str]:
    hosts: dict[tuple[str, int], str] = {}
    for q in keys.queries:
        for ip in q.addresses():
            hosts.setdefault((ip, q.depth), q.hostname.lower())
    return hosts


def _http_rows(keys: WebConnectivityKeys, fingerprints: FingerprintDB) -> tuple[HTTPObservation, ...]:
    classic = [r for r in keys.requests if r.classic] or list(keys.requests)
    control = keys.control
    ctrl_http = control.http if control is not None else None
    last = len(classic) - 1
    return tuple(_http_row(r, i == last, ctrl_http, keys.control_failure, fingerprints)
                 for i, r in enumerate(classic))


def _http_row(r: HTTPTransaction, is_final: bool, ctrl_http, control_failure, fingerprints) -> HTTPObservation:
    matches = tuple(fingerprints.match_http(r.body, r.headers)) if (r.body or r.headers) else ()
    return HTTPObservation(
        url=r.url,
        hostname=hostname_of(r.url),
        scheme=scheme_of(r.url),
        depth=r.depth,
        is_final=is_final,
        failure=r.failure,
        status_code=r.status_code,
        body_length=r.body_length,
        body_is_truncated=r.body_is_truncated,
        title=r.title,
        header_names=frozenset(name for name, _ in r.headers),
        location=r.header("location"),
        address=r.address,
        fingerprints=matches,
        ctrl=ctrl_http,
        control_failure=control_failure,
    )
