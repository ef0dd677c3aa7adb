"""Measurement -> observations (pure: no I/O, reference data passed in).

The probe's facts are laid beside the control's so that rules can judge each
row alone.  The "reference" for a hostname's DNS is what an unfiltered view
resolved: the test helper's answer for the input's hostname, plus any
DNS-over-HTTPS answers the probe obtained (encrypted, so not forged on path).
Plain DNS over UDP is never a reference: on-path injectors forge it too.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from netvigil.analysis.asn import AsnInfo, AsnLookup, NoLookup, org_key
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
    ControlHTTP,
    DNSQuery,
    HTTPTransaction,
    TLSHandshake,
    WebConnectivityKeys,
    join_endpoint,
    split_endpoint,
)

TRUSTED_ENGINES = frozenset({"doh"})
NO_LOOKUP = NoLookup()


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
    """Addresses an unfiltered resolver gave for each hostname, and their networks.

    Networks come from the measurement first (the control's ``ip_info``, the
    probe's annotated answers), then from the ASN database, which is asked only
    when an answer is not among the reference's addresses (OONI's order: equal
    addresses before same network), so lookups cost nothing on consistent DNS.
    """

    def __init__(self, input_host: str, keys: WebConnectivityKeys, asn: AsnLookup, probe_asn: int | None) -> None:
        self.addrs: dict[str, set[str]] = {}
        self.names: dict[str, tuple[str, ...]] = {}
        self.failure: dict[str, str | None] = {}
        self.doh_addrs: dict[str, set[str]] = {}
        self.ip_asn: dict[str, int] = {}
        self.ip_org: dict[str, str] = {}
        self.probe_asn = probe_asn
        self._asn = asn
        self._networks: dict[str, tuple[frozenset[int], frozenset[str]]] = {}
        control = keys.control
        if control is not None:
            self.ip_asn.update(control.ip_asn)
            if control.dns_measured and input_host:
                # A control "address" that is not an IP (a CNAME target) never resolved.
                ips = {a for a in control.dns_addrs if is_ip(a)}
                self.addrs.setdefault(input_host, set()).update(ips)
                self.names[input_host] = tuple(sorted(set(control.dns_addrs) - ips))
                self.failure[input_host] = control.dns_failure
        for q in keys.queries:
            for a in q.answers:
                if a.asn:
                    self.ip_asn.setdefault(a.value, a.asn)
                if a.as_org_name:
                    self.ip_org.setdefault(a.value, a.as_org_name)
            if q.engine in TRUSTED_ENGINES and q.hostname:
                host = q.hostname.lower()
                self.addrs.setdefault(host, set()).update(q.addresses())
                self.doh_addrs.setdefault(host, set()).update(q.addresses())
                # One successful DoH lookup outweighs a failed one (e.g. AAAA with no answer).
                if q.failure is None:
                    self.failure[host] = None
                else:
                    self.failure.setdefault(host, q.failure)

    def measured(self, host: str) -> bool:
        return host in self.addrs or host in self.failure

    def network(self, ip: str) -> AsnInfo:
        """The address's AS number and organisation: measurement data, then the database."""
        asn, org = self.ip_asn.get(ip), self.ip_org.get(ip)
        if asn and org:
            return AsnInfo(asn, org)
        found = self._asn.lookup(ip)
        return AsnInfo(asn or found.asn, org or found.org)

    def networks(self, host: str) -> tuple[frozenset[int], frozenset[str]]:
        """AS numbers and organisation keys of the reference's addresses for ``host``."""
        if host not in self._networks:
            infos = [self.network(a) for a in self.addrs.get(host, ()) if not is_bogon(a)]
            self._networks[host] = (frozenset(i.asn for i in infos if i.asn),
                                    frozenset(k for i in infos if (k := org_key(i.org))))
        return self._networks[host]

    def doh_outside_probe_network(self, host: str) -> bool:
        """The probe's own encrypted lookup answered, and with no address in the probe's AS."""
        doh = self.doh_addrs.get(host)
        if not doh or not self.probe_asn:
            return False
        return all(self.network(a).asn not in (None, self.probe_asn) for a in doh)


def build_observations(
    input_url: str, keys: WebConnectivityKeys, fingerprints: FingerprintDB, *,
    asn: AsnLookup | None = None, probe_asn: str | None = None,
) -> Observations:
    """``asn`` completes the networks the measurement does not name; ``probe_asn``
    ("AS1234") tells answers inside the probe's own network apart."""
    input_host = hostname_of(input_url)
    ref = _Reference(input_host, keys, asn or NO_LOOKUP, _asn_number(probe_asn))
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


@lru_cache(maxsize=65536)  # parsing an address costs microseconds, and a few addresses recur throughout
def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return False
    return True


def _asn_number(probe_asn: str | None) -> int | None:
    digits = (probe_asn or "").upper().removeprefix("AS")
    return (int(digits) or None) if digits.isdigit() else None


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
    common: dict[str, Any] = dict(
        hostname=host, depth=q.depth, engine=q.engine, resolver=q.resolver_address, classic=q.classic,
        query_type=q.query_type, failure=q.failure, reference_failure=ref.failure.get(host),
        reference_measured=measured, reference_addrs=tuple(sorted(ref_addrs)),
        reference_names=ref.names.get(host, ()),
    )
    if not q.answers:
        return [DNSObservation(**common, answer=None, answer_asn=None, is_bogon=False,
                               in_reference=None, asn_in_reference=None, tls_consistent=False,
                               fingerprint=None)]
    rows = []
    for a in q.answers:
        if a.answer_type not in ("A", "AAAA"):
            continue
        rows.append(_answer_row(a.value, common, host, ref, verified, fingerprints))
    return rows


def _answer_row(ip: str, common: dict[str, Any], host: str, ref: _Reference,
                verified: dict[str, set[str]], fingerprints: FingerprintDB) -> DNSObservation:
    ref_addrs = ref.addrs.get(host, set())
    bogon = is_bogon(ip)
    in_reference = (ip in ref_addrs) if ref_addrs else None
    network = AsnInfo(ref.ip_asn.get(ip), ref.ip_org.get(ip))
    asn_match = org_match = in_probe = None
    if not bogon and in_reference is False:  # the database is asked only when addresses differ
        network = ref.network(ip)
        ref_asns, ref_orgs = ref.networks(host)
        key = org_key(network.org)
        asn_match = (network.asn in ref_asns) if (ref_asns and network.asn) else None
        org_match = (key in ref_orgs) if (ref_orgs and key) else None
        in_probe = (network.asn == ref.probe_asn) if (network.asn and ref.probe_asn) else None
    return DNSObservation(
        **common,
        answer=ip,
        answer_asn=network.asn,
        answer_org=network.org,
        is_bogon=bogon,
        in_reference=in_reference,
        asn_in_reference=asn_match,
        org_in_reference=org_match,
        in_probe_network=in_probe,
        doh_outside_probe_network=bool(in_probe) and ref.doh_outside_probe_network(host),
        tls_consistent=host in verified.get(ip, ()),
        fingerprint=fingerprints.match_dns(ip),
    )


def _expected_addresses(dns: tuple[DNSObservation, ...]) -> dict[str, bool | None]:
    """Per answer IP: True when consistent with the reference, False when not, None unknown."""
    expected: dict[str, bool | None] = {}
    for row in dns:
        if row.answer is None:
            continue
        if row.tls_consistent or row.in_reference or row.asn_in_reference or row.org_in_reference:
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


def _http_row(r: HTTPTransaction, is_final: bool, ctrl_http: ControlHTTP | None, control_failure: str | None,
              fingerprints: FingerprintDB) -> HTTPObservation:
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
