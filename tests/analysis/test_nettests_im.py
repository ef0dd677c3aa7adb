"""Instant-messaging scenarios: which endpoint, which step, and never a guess without evidence."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.analysis.web import analyze_measurement
from netvigil.model.measurement import measurement_from_dict
from netvigil.store.reference_data import load_default_fingerprints

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib does not add it
from nettest_builders import measurement, q, req, steps, tcp, tls  # noqa: E402

WA_WEB, WA_REG, E1 = "https://web.whatsapp.com/", "https://v.whatsapp.net/v2/register", "e1.whatsapp.net"


def whatsapp(*, web_dns=None, web_tls=None, web_http=None, e1_tcp=None, reg_ip="157.240.1.53", web_ip="157.240.1.60",
             e1_v6_only=False, extra_queries=()):
    queries = [q("web.whatsapp.com", *(() if web_dns else (web_ip,)), failure=web_dns),
               q("v.whatsapp.net", reg_ip), *extra_queries]
    e1_ips = ("2a03:2880::1",) if e1_v6_only else ("3.33.221.48", "15.197.210.208")
    queries.append(q(E1, *e1_ips))
    connects = [tcp(reg_ip, 443), *[tcp(ip, 5222, e1_tcp) for ip in e1_ips]]
    if not web_dns:
        connects.append(tcp(web_ip, 443))
    shakes = [tls(f"{reg_ip}:443", "v.whatsapp.net")]
    if not web_dns:
        shakes.append(tls(f"{web_ip}:443", "web.whatsapp.com", web_tls))
    failing_web = web_dns or web_tls or web_http
    return steps(queries=queries, tcp_connect=connects, tls_handshakes=shakes,
                 requests=[req(WA_REG), req(WA_WEB, failure=failing_web)],
                 whatsapp_web_status="blocked" if failing_web else "ok")


def analyse(test_name: str, tk):
    return analyze_measurement(measurement_from_dict(measurement(test_name, tk)), FingerprintDB.empty())


# name -> (test, test keys, (outcome, technique, layer, rule id, hostname))
SCENARIOS = {
    "every endpoint reached": ("whatsapp", whatsapp(), ("ok", "ok", "web", "steps.all_reached", "")),
    "web.whatsapp.com NXDOMAIN while the rest works": (
        "whatsapp", whatsapp(web_dns="dns_nxdomain_error"),
        ("blocked", "dns.nxdomain", "dns", "steps.failed_network_ok", "web.whatsapp.com")),
    "e1 port 5222 times out on every address": (
        "whatsapp", whatsapp(e1_tcp="generic_timeout_error"),
        ("blocked", "tcp.timeout", "tcp", "steps.failed_network_ok", E1)),
    "TLS to web.whatsapp.com reset": (
        "whatsapp", whatsapp(web_tls="connection_reset"),
        ("blocked", "tls.reset", "tls", "steps.failed_network_ok", "web.whatsapp.com")),
    "the web fetch cut after the handshake": (
        "whatsapp", whatsapp(web_http="eof_error"),
        ("blocked", "http.eof", "http", "steps.failed_network_ok", "web.whatsapp.com")),
    "a certificate the probe rejects is not blocking": (
        "whatsapp", whatsapp(web_tls="ssl_unknown_authority"), ("ok", "ok", "web", "steps.partly_judged", "")),
    "IPv6-only endpoint on a probe without IPv6": (
        "whatsapp", whatsapp(e1_v6_only=True, e1_tcp="network_unreachable"),
        ("ok", "ok", "web", "steps.partly_judged", "")),
    "a published loopback lookup is set aside": (
        "signal", steps(queries=[q("uptime.signal.org", "127.0.0.1"), q("cdn.signal.org", "13.32.1.1")],
                        tcp_connect=[tcp("13.32.1.1", 443)], tls_handshakes=[tls("13.32.1.1:443", "cdn.signal.org")],
                        requests=[req("https://cdn.signal.org/", code=403)]),
        ("ok", "ok", "web", "steps.all_reached", "")),
    "a bogon answer for a name the test connects to": (
        "signal", steps(queries=[q("cdn.signal.org", "10.10.34.35"), q("sfu.voip.signal.org", "34.1.1.1")],
                        tcp_connect=[tcp("10.10.34.35", 443, "generic_timeout_error"), tcp("34.1.1.1", 443)],
                        requests=[req("https://cdn.signal.org/", failure="generic_timeout_error"),
                                  req("https://sfu.voip.signal.org/", code=503)]),
        ("blocked", "dns.bogon", "dns", "steps.bogon_answer", "cdn.signal.org")),
    "offline probe: every lookup fails temporarily": (
        "signal", steps(queries=[q("cdn.signal.org", failure="dns_temporary_failure")],
                        requests=[req("https://cdn.signal.org/", failure="dns_temporary_failure")]),
        ("unknown", "dns.failure", "dns", "steps.probe_side_failure", "cdn.signal.org")),
    "nothing worked at all: no evidence the network was up": (
        "signal", steps(queries=[q("cdn.signal.org", failure="generic_timeout_error")],
                        requests=[req("https://cdn.signal.org/", failure="generic_timeout_error")]),
        ("unknown", "dns.timeout", "dns", "steps.failed_nothing_worked", "cdn.signal.org")),
    "a Telegram DC refuses port 443 while the others answer": (
        "telegram", steps(tcp_connect=[tcp("149.154.167.51", 443, "connection_refused"), tcp("149.154.167.51", 80),
                                       tcp("149.154.175.50", 443)],
                          telegram_tcp_blocking=False),
        ("blocked", "tcp.refused", "tcp", "steps.failed_network_ok", "149.154.167.51")),
    "Facebook's name answered outside AS32934 and the address does not answer": (
        "facebook_messenger", steps(queries=[q("star.c10r.facebook.com", "94.100.180.200", asn=64500),
                                             q("b-api.facebook.com", "157.240.1.35", asn=32934)],
                                    tcp_connect=[tcp("94.100.180.200", 443, "generic_timeout_error"),
                                                 tcp("157.240.1.35", 443)]),
        ("blocked", "dns.spoof", "dns", "im.dns_outside_service_asn", "star.c10r.facebook.com")),
    "Facebook's name outside AS32934 but reachable (an ISP cache)": (
        "facebook_messenger", steps(queries=[q("star.c10r.facebook.com", "94.100.180.200", asn=64500)],
                                    tcp_connect=[tcp("94.100.180.200", 443)]),
        ("ok", "ok", "web", "steps.partly_judged", "")),
    "no step recorded": ("telegram", {}, ("unknown", "unknown", "web", "steps.no_data", "")),
    "2017 report with the probe's conclusions only": (
        "whatsapp", {"whatsapp_endpoints_status": "blocked", "whatsapp_web_status": "blocked",
                     "registration_server_status": "blocked"},
        ("unknown", "unknown", "web", "steps.no_data", "")),
    "legacy facebook keys with dashes and no steps": (
        "facebook_messenger", {"facebook-tcp-blocking": True, "facebook-dns-blocking": False},
        ("unknown", "unknown", "web", "steps.no_data", "")),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_im_scenario(name):
    test_name, tk, (outcome, technique, layer, rule_id, host) = SCENARIOS[name]
    s = analyse(test_name, tk).summary
    assert (s.outcome.value, s.technique.value, s.layer.value, s.rule.split("@")[0], s.hostname) == (
        outcome, technique, layer, rule_id, host), s.to_dict()
    if outcome == "blocked":  # the verdict names the endpoint and the failed step
        assert s.evidence.get("endpoint") and s.evidence.get("step") == layer
        assert s.confidence <= 0.7


def test_probe_status_is_evidence_never_the_decision():
    s = analyse("whatsapp", whatsapp(web_dns="dns_nxdomain_error")).summary
    assert s.evidence["probe_status"]["whatsapp_web_status"] == "blocked"
    legacy = analyse("whatsapp", {"whatsapp_web_status": "blocked"}).summary
    assert legacy.outcome.value == "unknown" and legacy.evidence["probe_status"] == {"whatsapp_web_status": "blocked"}


def test_every_endpoint_gets_its_own_verdict():
    verdicts = analyse("whatsapp", whatsapp(e1_tcp="generic_timeout_error")).verdicts
    by_endpoint = {v.evidence["endpoint"]: v.outcome.value for v in verdicts}
    assert by_endpoint == {WA_REG: "ok", WA_WEB: "ok", f"{E1}:5222": "blocked"}


IRAN_BLOCKPAGE = '<html><iframe src="http://10.10.34.34?type=Invalid Site&policy=MainPolicy"></iframe></html>'


@pytest.fixture(scope="module")
def fingerprints():
    return load_default_fingerprints()


def _with_fingerprints(test_name, tk, cc, fingerprints):
    raw = measurement(test_name, tk, probe_cc=cc)
    return analyze_measurement(measurement_from_dict(raw), fingerprints).summary


def test_a_confirmed_blockpage_decides_the_web_step(fingerprints):
    tk = steps(queries=[q("web.whatsapp.com", "157.240.1.60")], tcp_connect=[tcp("157.240.1.60", 80)],
               requests=[req("http://web.whatsapp.com/", code=200, body=IRAN_BLOCKPAGE)])
    s = _with_fingerprints("whatsapp", tk, "IR", fingerprints)
    assert (s.outcome.value, s.technique.value, s.layer.value, s.rule, s.hostname) == (
        "blocked", "http.blockpage", "http", "steps.blockpage_fingerprint@1", "web.whatsapp.com")
    assert s.evidence["fingerprint"] in ("nv.ir_peyvandha_iframe", "ooni.ir_0") and s.confidence == 1.0
    plain = steps(queries=[q("web.whatsapp.com", "157.240.1.60")], tcp_connect=[tcp("157.240.1.60", 80)],
                  requests=[req("http://web.whatsapp.com/", code=302, body="<html>moved</html>")])
    assert _with_fingerprints("whatsapp", plain, "IR", fingerprints).outcome.value == "ok"


def test_a_filtering_resolver_address_decides_the_dns_step(fingerprints):
    tk = steps(queries=[q("cdn.signal.org", "10.10.34.36"), q("sfu.voip.signal.org", "34.1.1.1")],
               tcp_connect=[tcp("10.10.34.36", 443, "generic_timeout_error"), tcp("34.1.1.1", 443)],
               requests=[req("https://cdn.signal.org/", failure="generic_timeout_error"),
                         req("https://sfu.voip.signal.org/", code=503)])
    s = _with_fingerprints("signal", tk, "IR", fingerprints)
    assert (s.outcome.value, s.technique.value, s.rule, s.evidence["answer"]) == (
        "blocked", "dns.bogon", "steps.dns_fingerprint@1", "10.10.34.36")
