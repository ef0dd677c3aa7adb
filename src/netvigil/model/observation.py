"""Observations: flat facts extracted from one measurement, before any judgement.

As in OONI's newer pipeline there is one row per DNS answer, one per endpoint
(ip:port, with its TCP connect and TLS handshake) and one per HTTP transaction.
Each row carries the matching control fact beside the probe's, so rules compare
two fields of one record instead of searching the measurement again.

``None`` in a ``ctrl_*`` field means "the control did not measure this", never
"the control succeeded"; success is an explicit ``ControlStep(success=True)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from netvigil.model.fingerprint import FingerprintMatch
from netvigil.model.web_connectivity import ControlHTTP, ControlStep


@dataclass(frozen=True, slots=True)
class DNSObservation:
    hostname: str
    depth: int
    engine: str
    resolver: str
    query_type: str
    classic: bool  # the probe's primary resolver (v0.5 tag "classic"; every query of older versions)
    failure: str | None
    answer: str | None  # one row per answer; None when the lookup returned none
    answer_asn: int | None
    is_bogon: bool
    in_reference: bool | None  # answer among the control's / DoH's addresses; None: no reference
    asn_in_reference: bool | None
    tls_consistent: bool  # this IP proved, by a verified TLS handshake, that it serves hostname
    fingerprint: FingerprintMatch | None
    reference_failure: str | None  # what the control's (or DoH's) lookup of hostname said
    reference_measured: bool
    reference_addrs: tuple[str, ...]
    answer_org: str | None = None  # the answer's AS organisation (measurement data, else the ASN database)
    org_in_reference: bool | None = None  # same organisation as one of the reference's addresses
    in_probe_network: bool | None = None  # the answer lies in the probe's own AS
    doh_outside_probe_network: bool = False  # the probe's own DoH lookup placed the name outside its AS
    reference_names: tuple[str, ...] = ()  # non-address entries of the control's answer (CNAME targets)


@dataclass(frozen=True, slots=True)
class EndpointObservation:
    hostname: str
    depth: int
    ip: str
    port: int
    tcp_success: bool
    tcp_failure: str | None
    tls_measured: bool
    tls_failure: str | None
    tls_server_name: str | None
    ctrl_tcp: ControlStep | None
    ctrl_tls: ControlStep | None
    address_expected: bool | None  # DNS for this IP was consistent with the reference
    on_path: bool = True  # False for v0.5 side checks the web fetch did not use

    @property
    def endpoint(self) -> str:
        return f"[{self.ip}]:{self.port}" if ":" in self.ip else f"{self.ip}:{self.port}"

    @property
    def is_ipv6(self) -> bool:
        return ":" in self.ip


@dataclass(frozen=True, slots=True)
class HTTPObservation:
    url: str
    hostname: str
    scheme: str
    depth: int
    is_final: bool  # the last transaction of the redirect chain
    failure: str | None
    status_code: int | None
    body_length: int | None
    body_is_truncated: bool
    title: str
    header_names: frozenset[str]
    location: str | None
    address: str | None
    fingerprints: tuple[FingerprintMatch, ...]
    ctrl: ControlHTTP | None  # the helper's fetch of the input URL (after its redirects)
    control_failure: str | None  # the helper could not be reached at all


@dataclass(frozen=True, slots=True)
class Observations:
    input: str
    dns: tuple[DNSObservation, ...]
    endpoints: tuple[EndpointObservation, ...]
    http: tuple[HTTPObservation, ...]
    control_available: bool
    control_fetched: bool = False  # the helper fetched the input URL (through its redirects)
