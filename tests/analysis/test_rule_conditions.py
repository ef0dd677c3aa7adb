"""Every web_connectivity rule, decided from hand-made observations (no shared data needed).

A scenario table in the style of OONI's webconnectivityqa: name -> (observations, the
rule ids ``judge`` must return in order).  Observations are built directly (the records
``build_observations`` would produce), so each scenario names the one fact that makes
its rule hold.  Coverage is checked from data: every rule of the table is the expected
decision of at least one scenario (test_rules.py checks that each has one condition).
Addresses are made up (documentation and private ranges) and never contacted.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from netvigil.analysis.rules import BY_ID, Conditions, Hop
from netvigil.analysis.web import judge, summarize
from netvigil.model.addresses import is_bogon
from netvigil.model.fingerprint import FingerprintMatch
from netvigil.model.observation import DNSObservation, EndpointObservation, HTTPObservation, Observations
from netvigil.model.verdict import Outcome
from netvigil.model.web_connectivity import ControlHTTP, ControlStep

SITE, URL, CC = "www.example.org", "http://www.example.org/", "ZZ"
REF = ("11.2.2.5",)
TITLE = "Example Domain Homepage"
CTRL_PAGE = ControlHTTP(None, 200, 2000, TITLE, (("Content-Type", "text/html"), ("X-Site", "1")))
CTRL_FAILED = ControlHTTP("generic_timeout_error", None, None, "", ())
OK, FAILED = ControlStep(True, None), ControlStep(False, "connection_refused")
NAT_BLOCKPAGE = FingerprintMatch("t.nat", "netvigil", "nat", "body", (CC,), False)
VAGUE_WORD = FingerprintMatch("t.vague", "netvigil", "vbw", "body", (), False)  # "access denied"
CDN_CHALLENGE = FingerprintMatch("t.fp", "netvigil", "fp", "body", (), True)


def answer(ip: str | None, *, ref: tuple[str, ...] = REF, **facts: object) -> DNSObservation:
    """One row of the probe's primary resolver; ``ip=None`` is a failed lookup."""
    row = DNSObservation(
        hostname=SITE, depth=0, engine="getaddrinfo", resolver="", query_type="A", classic=True,
        failure=None if ip else "dns_nxdomain_error", answer=ip, answer_asn=None,
        is_bogon=bool(ip) and is_bogon(ip), in_reference=(ip in ref) if ip and ref else None,
        asn_in_reference=None, tls_consistent=False, fingerprint=None, reference_failure=None,
        reference_measured=True, reference_addrs=ref)
    return replace(row, **facts)


def endpoint(ip: str = "11.2.2.5", port: int = 80, **facts: object) -> EndpointObservation:
    row = EndpointObservation(hostname=SITE, depth=0, ip=ip, port=port, tcp_success=True, tcp_failure=None,
                              tls_measured=port == 443, tls_failure=None, tls_server_name=SITE if port == 443 else None,
                              ctrl_tcp=OK, ctrl_tls=OK if port == 443 else None, address_expected=True)
    return replace(row, **facts)


def fetch(url: str = URL, **facts: object) -> HTTPObservation:
    """The final response of the chain, by default the same page the helper fetched."""
    row = HTTPObservation(url=url, hostname=SITE, scheme=url.split(":")[0], depth=0, is_final=True, failure=None,
                          status_code=200, body_length=2000, body_is_truncated=False, title=TITLE,
                          header_names=frozenset({"content-type", "x-site"}), location=None, address=None,
                          fingerprints=(), ctrl=CTRL_PAGE, control_failure=None)
    return replace(row, **facts)


def seen(dns: tuple[DNSObservation, ...] = (), endpoints: tuple[EndpointObservation, ...] = (),
         http: tuple[HTTPObservation, ...] = (), control_fetched: bool = True) -> Observations:
    return Observations(URL, dns, endpoints, http, control_available=True, control_fetched=control_fetched)


NO_REFERENCE = dict(reference_measured=False, ref=())
NAME_DOES_NOT_EXIST = dict(ref=(), reference_failure="dns_nxdomain_error")
ELSEWHERE = "11.1.1.10"  # an answer outside the reference's addresses
PLAIN_DNS = dict(classic=False, engine="udp", resolver="8.8.8.8:53")
REDIRECT = dict(status_code=302, location="http://search.example.net/?q=www.example.org", body_length=0, title="")

# name -> (observations, the rule ids judge() returns, in order)
SCENARIOS: dict[str, tuple[Observations, list[str]]] = {
    # DNS: a blocking address, failed lookups, bogons.
    "dns_blocking_address": (seen((answer("10.10.34.35", fingerprint=NAT_BLOCKPAGE),)), ["dns.fingerprint"]),
    "nxdomain_for_everyone": (seen((answer(None, **NAME_DOES_NOT_EXIST),)), ["dns.failure_reference_failed"]),
    "nxdomain_reference_resolved": (seen((answer(None),)), ["dns.failure_reference_ok"]),
    "redirect_hop_lookup_failed": (seen((answer(None, depth=1, **NO_REFERENCE),)), ["dns.failure_control_fetched"]),
    "lookup_failed_no_reference": (seen((answer(None, **NO_REFERENCE),), control_fetched=False),
                                   ["dns.failure_no_reference"]),
    "bogon_everyone_gets": (seen((answer("10.0.0.1", ref=("10.0.0.1",)),)), ["dns.bogon_in_reference"]),
    "bogon_only_here": (seen((answer("10.0.0.1"),)), ["dns.bogon_not_in_reference"]),
    "bogon_no_reference": (seen((answer("10.0.0.1", **NO_REFERENCE),)), ["dns.bogon_no_reference"]),
    # DNS: names the reference says do not exist.
    "nonexistent_name_serves_blockpage": (
        seen((answer(ELSEWHERE, **NAME_DOES_NOT_EXIST),), http=(fetch(fingerprints=(NAT_BLOCKPAGE,)),)),
        ["dns.nonexistent_name_blockpage"]),
    "nonexistent_name_forged_on_path": (
        seen((answer(ELSEWHERE, **NAME_DOES_NOT_EXIST), answer(ELSEWHERE, **PLAIN_DNS, **NAME_DOES_NOT_EXIST))),
        ["dns.nonexistent_name_injected"]),
    "isp_nxdomain_rewriting": (
        seen((answer(ELSEWHERE, **NAME_DOES_NOT_EXIST),), http=(fetch(**REDIRECT, ctrl=CTRL_FAILED),)),
        ["dns.nxdomain_rewriting", "http.redirect_not_followed"]),
    # DNS: consistency with the reference.
    "equal_address": (seen((answer("11.2.2.5"),), http=(fetch(),)), ["dns.consistent_address", "http.matches_control"]),
    "cdn_same_asn": (seen((answer(ELSEWHERE, asn_in_reference=True),), http=(fetch(),)),
                     ["dns.consistent_asn", "http.matches_control"]),
    "cdn_same_org": (seen((answer(ELSEWHERE, org_in_reference=True),), http=(fetch(),)),
                     ["dns.consistent_org", "http.matches_control"]),
    "reference_without_addresses": (seen((answer(ELSEWHERE, ref=()),), http=(fetch(ctrl=None),)),
                                    ["dns.no_reference", "http.no_control"]),
    "elsewhere_and_refused": (
        seen((answer(ELSEWHERE),), (endpoint(ELSEWHERE, tcp_success=False, tcp_failure="connection_refused",
                                             address_expected=False),)),
        ["dns.inconsistent_and_failing"]),
    "transparent_proxy_in_probe_network": (
        seen((answer(ELSEWHERE, in_probe_network=True, doh_outside_probe_network=True),), http=(fetch(),)),
        ["dns.hijacked_to_proxy", "http.matches_control"]),
    "elsewhere_with_valid_certificate": (
        seen((answer(ELSEWHERE, tls_consistent=True),), http=(fetch("https://www.example.org/"),),
             control_fetched=False),
        ["dns.tls_consistent", "http.https_verified"]),
    "elsewhere_same_content": (seen((answer(ELSEWHERE),), http=(fetch(),)),
                               ["dns.inconsistent_content_ok", "http.matches_control"]),
    "elsewhere_nothing_downstream": (seen((answer(ELSEWHERE),), control_fetched=False),
                                     ["dns.inconsistent_unexplained"]),
    # TCP, on endpoints DNS did not already explain.
    "ipv6_without_route": (
        seen(endpoints=(endpoint("2001:db8::1", tcp_success=False, tcp_failure="network_unreachable", ctrl_tcp=FAILED),)),
        ["tcp.ipv6_unavailable"]),
    "connect_fails_for_helper_too": (
        seen(endpoints=(endpoint(tcp_success=False, tcp_failure="generic_timeout_error", ctrl_tcp=FAILED),)),
        ["tcp.failure_control_failed"]),
    "connect_fails_page_loads_elsewhere": (
        seen(endpoints=(endpoint("11.2.2.6", tcp_success=False, tcp_failure="generic_timeout_error"),),
             http=(fetch(),)),
        ["tcp.failure_but_site_loaded", "http.matches_control"]),
    "connect_reset_helper_connected": (
        seen(endpoints=(endpoint(tcp_success=False, tcp_failure="connection_reset"),)), ["tcp.failure_control_ok"]),
    "connect_fails_on_untested_hop": (
        seen(endpoints=(endpoint(tcp_success=False, tcp_failure="generic_timeout_error", ctrl_tcp=None),)),
        ["tcp.failure_control_fetched"]),
    "connect_fails_no_control": (
        seen(endpoints=(endpoint(tcp_success=False, tcp_failure="generic_timeout_error", ctrl_tcp=None),),
             control_fetched=False),
        ["tcp.failure_no_control"]),
    # TLS, on endpoints that accepted the connection.
    "handshake_fails_for_helper_too": (
        seen(endpoints=(endpoint(port=443, tls_failure="ssl_invalid_hostname", ctrl_tls=FAILED),)),
        ["tls.failure_control_failed"]),
    "handshake_fails_page_loads_elsewhere": (
        seen(endpoints=(endpoint("11.2.2.6", 443, tls_failure="connection_reset"),),
             http=(fetch("https://www.example.org/"),)),
        ["tls.failure_but_site_loaded", "http.https_verified"]),
    "middlebox_certificate": (seen(endpoints=(endpoint(port=443, tls_failure="ssl_unknown_authority"),)),
                              ["tls.certificate_control_ok"]),
    "handshake_reset_helper_completed": (seen(endpoints=(endpoint(port=443, tls_failure="connection_reset"),)),
                                         ["tls.failure_control_ok"]),
    "handshake_fails_on_untested_hop": (
        seen(endpoints=(endpoint(port=443, tls_failure="connection_reset", ctrl_tls=None),)),
        ["tls.failure_control_fetched"]),
    "handshake_fails_no_control": (
        seen(endpoints=(endpoint(port=443, tls_failure="generic_timeout_error", ctrl_tls=None),),
             control_fetched=False),
        ["tls.failure_no_control"]),
    # HTTP: fingerprints, then failed transactions, then the final response.
    "cdn_challenge_page": (seen(http=(fetch(fingerprints=(CDN_CHALLENGE,), body_length=300, title="Just a moment"),)),
                           ["http.false_positive_fingerprint"]),
    "national_blockpage": (seen(http=(fetch(fingerprints=(NAT_BLOCKPAGE,)),)), ["http.blockpage_fingerprint"]),
    "national_blockpage_outranks_false_positive": (
        seen(http=(fetch(fingerprints=(CDN_CHALLENGE, NAT_BLOCKPAGE)),)), ["http.blockpage_fingerprint"]),
    "redirect_hop_to_blockpage": (
        seen(http=(fetch(**REDIRECT, is_final=False, fingerprints=(NAT_BLOCKPAGE,)),
                   fetch("http://blocked.example.net/", hostname="blocked.example.net", depth=1))),
        ["http.blockpage_fingerprint", "http.matches_control"]),  # success verdicts are always kept
    "redirect_hop_with_false_positive_says_nothing": (
        seen(http=(fetch(**REDIRECT, is_final=False, fingerprints=(CDN_CHALLENGE,)), fetch(depth=1))),
        ["http.matches_control"]),
    "redirect_to_firewall_portal": (seen(http=(fetch(status_code=302, location="http://10.10.10.10/usercheck"),)),
                                    ["http.redirect_to_bogon"]),
    "failed_redirect_to_firewall_portal": (
        seen(http=(fetch(failure="connection_refused", status_code=302, location="http://192.168.1.1/"),)),
        ["http.redirect_to_bogon"]),
    "site_redirects_nowhere": (seen(http=(fetch(failure="http_invalid_redirect_location_host"),)),
                               ["http.invalid_redirect"]),
    "request_reset_no_control": (seen(http=(fetch(failure="connection_reset", ctrl=None),)),
                                 ["http.failure_no_control"]),
    "helper_could_not_reach_control": (
        seen(http=(fetch(failure="connection_reset", control_failure="generic_timeout_error"),)),
        ["http.failure_no_control"]),
    "request_fails_for_helper_too": (seen(http=(fetch(failure="connection_reset", ctrl=CTRL_FAILED),)),
                                     ["http.failure_control_failed"]),
    "body_stalls": (seen(http=(fetch(failure="generic_timeout_error"),)), ["http.throttled"]),
    "request_reset_helper_fetched": (seen(http=(fetch(failure="connection_reset", status_code=None),)),
                                     ["http.failure_control_ok"]),
    "redirect_recorded_last": (seen(http=(fetch(**REDIRECT),)), ["http.redirect_not_followed"]),
    "https_page": (seen(http=(fetch("https://www.example.org/", body_length=10, title="x"),)),
                   ["http.https_verified"]),
    "vague_blocking_word_no_control": (seen(http=(fetch(fingerprints=(VAGUE_WORD,), ctrl=None),)),
                                            ["http.blockpage_fingerprint_unconfirmed"]),
    "helper_fetch_failed_probe_loaded": (seen(http=(fetch(ctrl=CTRL_FAILED),)), ["http.control_failed_probe_ok"]),
    "no_control_page_loaded": (seen(http=(fetch(ctrl=None),)), ["http.no_control"]),
    "same_page_as_helper": (seen(http=(fetch(),)), ["http.matches_control"]),
    "different_page": (seen(http=(fetch(body_length=300, title="Notice", header_names=frozenset()),)),
                       ["http.diff"]),
    "different_page_weak_fingerprint": (
        seen(http=(fetch(body_length=300, title="Notice", header_names=frozenset(), fingerprints=(VAGUE_WORD,)),)),
        ["http.diff"]),
}


def _ids(obs: Observations) -> list[str]:
    return [v.rule.split("@")[0] for v in judge(obs, CC)]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_is_decided_by_its_rule(name: str) -> None:
    obs, expected = SCENARIOS[name]
    assert _ids(obs) == expected, [v.to_dict() for v in judge(obs, CC)]


def test_every_rule_decides_at_least_one_scenario() -> None:
    decided = {rule_id for _, expected in SCENARIOS.values() for rule_id in expected} | {"web.insufficient"}
    assert decided == set(BY_ID), set(BY_ID) ^ decided


def test_nothing_observed_is_insufficient() -> None:
    obs = seen()
    summary = summarize(judge(obs, CC), obs)
    assert (summary.rule, summary.outcome) == ("web.insufficient@1", Outcome.UNKNOWN)


def test_a_verdict_carries_its_rule_outcome_and_confidence() -> None:
    verdict = judge(SCENARIOS["bogon_only_here"][0], CC)[0]
    assert (verdict.outcome, verdict.confidence) == (Outcome.BLOCKED, BY_ID["dns.bogon_not_in_reference"].confidence)
    assert verdict.evidence == {"answers": ["10.0.0.1"], "bogon": "10.0.0.1", "reference_addrs": ["11.2.2.5"]}


def test_site_down_for_everyone_is_never_censorship() -> None:
    """The worst bug: whatever the probe saw, a failure the control shares is ``down``."""
    for name in ("nxdomain_for_everyone", "bogon_everyone_gets", "connect_fails_for_helper_too",
                 "handshake_fails_for_helper_too", "request_fails_for_helper_too", "site_redirects_nowhere"):
        obs, _ = SCENARIOS[name]
        summary = summarize(judge(obs, CC), obs)
        assert summary.outcome is Outcome.DOWN, (name, summary.to_dict())


def test_registering_an_unknown_or_duplicate_rule_fails() -> None:
    fresh: Conditions[object] = Conditions("dns.")
    with pytest.raises(KeyError):
        fresh.condition("dns.no_such_rule")
    with pytest.raises(KeyError):
        fresh.condition("tcp.failure_no_control")  # another layer's rule
    fresh.condition("dns.no_reference")(lambda case: None)
    with pytest.raises(ValueError):
        fresh.condition("dns.no_reference")(lambda case: None)


def test_a_layer_whose_conditions_all_fail_is_an_error_not_a_silent_verdict() -> None:
    empty: Conditions[object] = Conditions("dns.")
    empty.condition("dns.no_reference")(lambda case: None)
    assert empty.decide(object(), Hop(SITE, 0)) is None
    with pytest.raises(LookupError):
        empty.judge(object(), Hop(SITE, 0))
