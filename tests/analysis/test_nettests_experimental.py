"""dnscheck, stunreachability, urlgetter and browser_web scenarios."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.analysis.web import analyze_measurement
from netvigil.model.measurement import measurement_from_dict

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib does not add it
from nettest_builders import measurement, q, req, steps, tcp, tls  # noqa: E402

T = "generic_timeout_error"


def analyse(test_name, tk):
    return analyze_measurement(measurement_from_dict(measurement(test_name, tk)), FingerprintDB.empty()).summary


def dot_lookup(ok: bool):
    """A DNS-over-TLS lookup of example.org at 8.8.8.8:853 (a urlgetter result)."""
    if ok:
        return steps(queries=[q("example.org", "93.184.216.34", engine="dot", resolver="8.8.8.8:853")], tcp_connect=[tcp("8.8.8.8", 853)],
                     tls_handshakes=[tls("8.8.8.8:853", "dns.google")])
    return steps(queries=[q("example.org", failure=T, engine="dot", resolver="8.8.8.8:853")], tcp_connect=[tcp("8.8.8.8", 853, T)], failure=T)


BOOT_OK = steps(queries=[q("dns.google", "8.8.8.8", "8.8.4.4")])
CASES = {
    "dnscheck: one endpoint answers": ("dnscheck", {"domain": "example.org", "bootstrap": BOOT_OK, "lookups": {
        "dot://8.8.8.8:853": dot_lookup(True), "dot://8.8.4.4:853": dot_lookup(False)}},
        ("ok", "ok", "dnscheck.resolver_works")),
    "dnscheck: the resolver's port times out after a good bootstrap": (
        "dnscheck", {"domain": "example.org", "bootstrap": BOOT_OK, "lookups": {"dot://8.8.8.8:853": dot_lookup(False)}},
        ("blocked", "tcp.timeout", "steps.failed_network_ok")),
    "dnscheck: the resolver's name does not resolve": (
        "dnscheck", {"domain": "example.org", "bootstrap_failure": "dns_nxdomain_error", "lookups": {}},
        ("unknown", "dns.nxdomain", "dnscheck.bootstrap_failed")),
    "dnscheck: nothing recorded": ("dnscheck", {"domain": "example.org"}, ("unknown", "unknown", "steps.no_data")),
    "stun: binding answered": ("stunreachability", {"endpoint": "stun.l.google.com:19302", "failure": None,
                                                     **steps(queries=[q("stun.l.google.com", "74.125.1.127")])},
                               ("ok", "ok", "stun.binding_ok")),
    "stun: no answer after the name resolved": (
        "stunreachability", {"endpoint": "stun.l.google.com:19302", "failure": T,
                             **steps(queries=[q("stun.l.google.com", "74.125.1.127")])},
        ("blocked", "udp.timeout", "stun.no_response")),
    "stun: failure and nothing resolved": ("stunreachability", {"endpoint": "stun.l.google.com:19302", "failure": T},
                                           ("unknown", "udp.timeout", "stun.failure_unexplained")),
    "stun: the name itself fails, nothing else worked": (
        "stunreachability", {"endpoint": "stun.l.google.com:19302", "failure": "dns_nxdomain_error",
                             **steps(queries=[q("stun.l.google.com", failure="dns_nxdomain_error")])},
        ("unknown", "dns.nxdomain", "steps.failed_nothing_worked")),
    "urlgetter: fetched": ("urlgetter", steps(queries=[q("example.org", "93.184.216.34")],
                                              tcp_connect=[tcp("93.184.216.34", 443)],
                                              tls_handshakes=[tls("93.184.216.34:443", "example.org")],
                                              requests=[req("https://example.org/")]),
                           ("ok", "ok", "steps.all_reached")),
    "urlgetter: TLS reset after a good connect": (
        "urlgetter", steps(queries=[q("example.org", "93.184.216.34")], tcp_connect=[tcp("93.184.216.34", 443)],
                           tls_handshakes=[tls("93.184.216.34:443", "example.org", "connection_reset")],
                           requests=[req("https://example.org/", failure="connection_reset")],
                           failure="connection_reset", failed_operation="tls_handshake"),
        ("blocked", "tls.reset", "steps.failed_network_ok")),
    "urlgetter: the input is not a URL": ("urlgetter", {"failure": "unknown_failure: unknown targetURL scheme",
                                                        "failed_operation": "top_level", "requests": None},
                                          ("unknown", "unknown", "urlgetter.input_unusable")),
    "browser_web: loaded": ("browser_web", {"result": "ok", "load_time_ms": 404.4, "browser_name": "chrome"},
                            ("ok", "ok", "browser.loaded")),
    "browser_web: error": ("browser_web", {"result": "error", "load_time_ms": 680}, ("unknown", "unknown", "browser.load_failed")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_experimental_scenario(name):
    test_name, tk, expected = CASES[name]
    s = analyse(test_name, tk)
    assert (s.outcome.value, s.technique.value, s.rule.split("@")[0]) == expected, s.to_dict()
