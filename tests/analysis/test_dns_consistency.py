"""DNS consistency in OONI's order, and the real-world cases of issue 9, as a scenario table.

Each scenario is a small web_connectivity measurement (made-up routable addresses,
never contacted) run with or without an IP-to-ASN database; the table names the DNS rule
that must decide and the summary outcome.  The three false "blocked" shapes seen
on real data (a CNAME-only control, ISP NXDOMAIN rewriting, a CDN answer with
IPv6-only failures on a probe without IPv6) must come out ``down`` or consistent;
DNS hijacked to a transparent proxy is ``tampered``, never ``blocked``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from netvigil.analysis.asn import AsnRange, RangeTable
from netvigil.analysis.fingerprints import Fingerprint, FingerprintDB
from netvigil.analysis.observations import build_observations
from netvigil.analysis.web import analyze_measurement
from netvigil.model.measurement import measurement_from_dict
from netvigil.model.web_connectivity import parse_web_connectivity

SITE = "www.example.org"
PAGE = "<html><head><title>Example Domain Homepage</title></head><body>" + "x" * 2000 + "</body></html>"
CONTROL_HTTP = {"status_code": 200, "body_length": len(PAGE), "title": "Example Domain Homepage",
                "headers": {"Content-Type": "text/html"}, "failure": None}
BLOCKPAGE = "<html><title>Notice</title><body>Blocked by order of the ministry</body></html>"
FINGERPRINTS = FingerprintDB([Fingerprint("test.nat_blockpage", "netvigil", "nat", "body", "contains",
                                          "Blocked by order of the ministry", ("ZZ",))])


def _net(cidr: str) -> tuple[int, int]:
    import ipaddress
    n = ipaddress.ip_network(cidr)
    return int(n.network_address), int(n.broadcast_address)


def table(rows: dict[str, tuple[int | None, str | None]]) -> RangeTable:
    import ipaddress
    return RangeTable((ipaddress.ip_network(c).version, AsnRange(*_net(c), asn, org)) for c, (asn, org) in rows.items())


CDN_ONE_AS = table({"11.1.1.0/24": (64500, "Example CDN, Inc."), "11.2.2.0/24": (64500, "Example CDN, Inc."),
                    "2a0b:4e07::/32": (64500, "Example CDN, Inc.")})
CDN_TWO_AS = table({"11.1.1.0/24": (64500, "Example CDN, Inc."), "11.2.2.0/24": (64501, "EXAMPLE CDN INC")})
OTHER_NETS = table({"11.1.1.0/24": (64510, "Some Hoster"), "11.2.2.0/24": (64500, "Example CDN, Inc.")})


@dataclass
class Case:
    answers: list[str]
    control_addrs: list[str] | None = field(default_factory=lambda: ["11.2.2.5"])
    control_dns_failure: str | None = None
    control_http: dict[str, Any] = field(default_factory=lambda: dict(CONTROL_HTTP))
    dns_failure: str | None = None
    tcp: dict[str, str | None] = field(default_factory=dict)  # "ip:port" -> failure
    http: dict[str, Any] | None = field(default_factory=lambda: {"code": 200, "body": PAGE})
    doh: list[str] | None = None
    answer_asn: dict[str, tuple[int, str]] = field(default_factory=dict)
    ip_info: dict[str, int] = field(default_factory=dict)
    url: str = f"http://{SITE}/"


def measurement(c: Case) -> dict[str, Any]:
    def answer(ip: str) -> dict[str, Any]:
        a: dict[str, Any] = {"answer_type": "AAAA" if ":" in ip else "A", "ipv6" if ":" in ip else "ipv4": ip}
        if ip in c.answer_asn:
            a["asn"], a["as_org_name"] = c.answer_asn[ip]
        return a

    queries = [{"hostname": SITE, "query_type": "ANY", "engine": "getaddrinfo", "resolver_address": "",
                "failure": c.dns_failure, "answers": [answer(ip) for ip in c.answers], "tags": ["classic", "depth=0"]}]
    if c.doh is not None:
        queries.append({"hostname": SITE, "query_type": "A", "engine": "doh", "failure": None,
                        "resolver_address": "https://dns.example/dns-query", "tags": ["depth=0"],
                        "answers": [answer(ip) for ip in c.doh]})
    tcp = []
    for endpoint, failure in c.tcp.items():
        ip, _, port = endpoint.rpartition(":")
        tcp.append({"ip": ip.strip("[]"), "port": int(port), "status": {"success": failure is None, "failure": failure},
                    "tags": ["classic", "depth=0"]})
    requests = []
    if c.http is not None:
        response = {"code": c.http["code"], "body": c.http.get("body", ""),
                    "headers": {"Content-Type": "text/html", **({"Location": c.http["location"]}
                                                                 if "location" in c.http else {})}}
        requests.append({"request": {"url": c.url, "method": "GET"}, "response": response,
                         "failure": c.http.get("failure"), "tags": ["classic", "depth=0"]})
    control = {"dns": {"failure": c.control_dns_failure, "addrs": c.control_addrs or []},
               "http_request": c.control_http, "tcp_connect": {},
               "ip_info": {ip: {"asn": asn, "flags": 2} for ip, asn in c.ip_info.items()}}
    return {"test_name": "web_connectivity", "measurement_start_time": "2026-12-01 10:00:00", "input": c.url,
            "probe_cc": "ZZ", "probe_asn": "AS64496",
            "test_keys": {"queries": queries, "tcp_connect": tcp, "requests": requests, "control": control,
                          "control_failure": None}}


OK_V4 = {"11.1.1.10:80": None}
DEFUNCT_CONTROL = {"status_code": -1, "body_length": -1, "title": "", "headers": {}, "failure": "dns_lookup_error"}

# name -> (case, ASN database, expected DNS rule, expected summary outcome)
SCENARIOS: dict[str, tuple[Case, Any, str, str]] = {
    "equal_addresses": (Case(["11.2.2.5"], tcp={"11.2.2.5:80": None}), None, "dns.consistent_address", "ok"),
    "cdn_edge_same_asn_by_database": (Case(["11.1.1.10"], tcp=OK_V4), CDN_ONE_AS, "dns.consistent_asn", "ok"),
    "cdn_edge_same_asn_in_measurement": (
        Case(["11.1.1.10"], tcp=OK_V4, answer_asn={"11.1.1.10": (64500, "Example CDN")},
             ip_info={"11.2.2.5": 64500}), None, "dns.consistent_asn", "ok"),
    "cdn_edge_same_org_other_asn": (Case(["11.1.1.10"], tcp=OK_V4), CDN_TWO_AS, "dns.consistent_org", "ok"),
    "other_network_page_matches": (Case(["11.1.1.10"], tcp=OK_V4), OTHER_NETS, "dns.inconsistent_content_ok", "ok"),
    # The CDN case: IPv6 answers fail for want of a route, IPv4 loads the page.
    "cdn_ipv6_without_route": (
        Case(["11.1.1.10", "2a0b:4e07::10"], tcp={"11.1.1.10:80": None, "[2a0b:4e07::10]:80": "network_unreachable"}),
        CDN_ONE_AS, "dns.consistent_asn", "ok"),
    "ipv6_without_route_no_database": (
        Case(["11.1.1.10", "2a0b:4e07::10"], tcp={"11.1.1.10:80": None, "[2a0b:4e07::10]:80": "network_unreachable"}),
        None, "dns.inconsistent_content_ok", "ok"),
    # With IPv6 working elsewhere, an IPv6 timeout on the unexpected answer is a symptom.
    "ipv6_route_present_timeout_counts": (
        Case(["11.1.1.10", "2a0b:4e07::10", "2a0b:4e07::11"],
             tcp={"11.1.1.10:80": None, "[2a0b:4e07::11]:80": None, "[2a0b:4e07::10]:80": "generic_timeout_error"}),
        None, "dns.inconsistent_and_failing", "blocked"),
    "inconsistent_and_refused": (Case(["11.1.1.10"], tcp={"11.1.1.10:80": "connection_refused"}, http=None),
                                 OTHER_NETS, "dns.inconsistent_and_failing", "blocked"),
    # The defunct site: the control's only "address" is a CNAME and its fetch failed at DNS.
    "cname_only_control": (
        Case([], control_addrs=["example.net"], control_http=DEFUNCT_CONTROL, dns_failure="dns_nxdomain_error",
             http=None), None, "dns.failure_reference_failed", "down"),
    "nxdomain_reference_ok_is_blocking": (
        Case([], dns_failure="dns_nxdomain_error", http=None), None, "dns.failure_reference_ok", "blocked"),
    # The ISP NXDOMAIN rewriting: a name nobody resolves, redirected to a search page.
    "nxdomain_rewriting": (
        Case(["11.1.1.50"], control_addrs=[], control_dns_failure="dns_name_error", control_http=DEFUNCT_CONTROL,
             tcp={"11.1.1.50:80": None},
             http={"code": 302, "location": "http://search.example.net/?q=www.example.org"}),
        CDN_ONE_AS, "dns.nxdomain_rewriting", "down"),
    "nonexistent_name_blockpage": (
        Case(["11.1.1.50"], control_addrs=[], control_dns_failure="dns_name_error", control_http=DEFUNCT_CONTROL,
             tcp={"11.1.1.50:80": None}, http={"code": 200, "body": BLOCKPAGE}),
        None, "dns.nonexistent_name_blockpage", "blocked"),
    # Section 3: DNS sends the probe to a proxy in its own network that still serves the page.
    "hijacked_to_transparent_proxy": (
        Case(["11.1.1.80"], tcp={"11.1.1.80:80": None}, doh=["11.2.2.5"],
             answer_asn={"11.1.1.80": (64496, "Probe ISP"), "11.2.2.5": (64500, "Example CDN")},
             ip_info={"11.2.2.5": 64500}), None, "dns.hijacked_to_proxy", "tampered"),
    "proxy_shape_without_doh_is_not_tampering": (
        Case(["11.1.1.80"], tcp={"11.1.1.80:80": None}, answer_asn={"11.1.1.80": (64496, "Probe ISP")},
             ip_info={"11.2.2.5": 64500}), None, "dns.inconsistent_content_ok", "ok"),
    "embedded_cache_seen_by_doh_too": (
        Case(["11.1.1.80"], tcp={"11.1.1.80:80": None}, doh=["11.1.1.80"],
             answer_asn={"11.1.1.80": (64496, "Probe ISP")}), None, "dns.consistent_address", "ok"),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_dns_scenario(name):
    case, asn, dns_rule, outcome = SCENARIOS[name]
    analysis = analyze_measurement(measurement_from_dict(measurement(case)), FINGERPRINTS, asn)
    dns = [v for v in analysis.verdicts if v.layer.value == "dns"]
    assert [v.rule.split("@")[0] for v in dns] == [dns_rule], [v.to_dict() for v in analysis.verdicts]
    assert analysis.summary.outcome.value == outcome, analysis.summary.to_dict()


def test_tampered_is_never_blocked_and_says_dns_spoof():
    case = SCENARIOS["hijacked_to_transparent_proxy"][0]
    analysis = analyze_measurement(measurement_from_dict(measurement(case)), FINGERPRINTS)
    assert all(v.outcome.value != "blocked" for v in analysis.verdicts)
    assert (analysis.summary.technique.value, analysis.summary.outcome.value) == ("dns.spoof", "tampered")
    assert analysis.summary.evidence["answer_networks"]["11.1.1.80"]["asn"] == 64496


def test_rewriting_is_kept_as_a_note():
    case = SCENARIOS["nxdomain_rewriting"][0]
    summary = analyze_measurement(measurement_from_dict(measurement(case)), FINGERPRINTS).summary
    assert summary.evidence["note"].startswith("nxdomain_rewriting")
    assert "search.example.net" in summary.evidence["note"]


def test_observations_carry_answer_asn_and_organisation():
    case = SCENARIOS["other_network_page_matches"][0]
    keys = parse_web_connectivity(measurement(case)["test_keys"])
    obs = build_observations(case.url, keys, FINGERPRINTS, asn=OTHER_NETS, probe_asn="AS64496")
    row = next(d for d in obs.dns if d.answer == "11.1.1.10")
    assert (row.answer_asn, row.answer_org) == (64510, "Some Hoster")
    assert (row.asn_in_reference, row.org_in_reference, row.in_probe_network) == (False, False, False)


class CountingLookup:
    def __init__(self, inner):
        self.inner, self.asked = inner, []

    def lookup(self, ip):
        self.asked.append(ip)
        return self.inner.lookup(ip)


def test_equal_addresses_need_no_lookup():
    """OONI's order: the database is asked only when addresses differ."""
    counting = CountingLookup(CDN_ONE_AS)
    case = SCENARIOS["equal_addresses"][0]
    analyze_measurement(measurement_from_dict(measurement(case)), FINGERPRINTS, counting)
    assert counting.asked == []
    analyze_measurement(measurement_from_dict(measurement(SCENARIOS["cdn_edge_same_asn_by_database"][0])),
                        FINGERPRINTS, counting)
    assert sorted(set(counting.asked)) == ["11.1.1.10", "11.2.2.5"]
