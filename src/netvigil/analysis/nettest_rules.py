"""Rules for the tests other than web_connectivity, as data (same shape as ``rules.py``).

These tests have no control: nobody fetched WhatsApp or a Tor relay from an
unfiltered network at the same moment.  So a failure is called ``blocked`` only
when the measurement itself shows the probe's network worked (another step of
the same test succeeded), the failure is one censors produce (timeouts, resets,
refusals, NXDOMAIN, bogon answers), and never above 0.7; only a blocking
fingerprint confirmed for the probe's country (a blockpage, a filtering
resolver's address) is certain without a control.  Failures the probe
causes itself (no IPv6 route, Android's opaque DNS error, an unparsable input,
a certificate its own trust store rejects) are ``unknown``.  A middlebox that
alters traffic without stopping it is ``tampered``; performance tests are never
``blocked``.  A rule's meaning never changes in place: a new meaning is a new
version or id.
"""

from __future__ import annotations

from netvigil.analysis.rules import Rule
from netvigil.model.verdict import Layer, Outcome

NETTEST_RULES_VERSION = "2026.12.1"

B, D, K, U, T = Outcome.BLOCKED, Outcome.DOWN, Outcome.OK, Outcome.UNKNOWN, Outcome.TAMPERED
DNS, TCP, TLS, HTTP, WEB, UDP = Layer.DNS, Layer.TCP, Layer.TLS, Layer.HTTP, Layer.WEB, Layer.UDP


def _r(rule_id: str, layer: Layer, outcome: Outcome, confidence: float, meaning: str, version: int = 1) -> Rule:
    return Rule(rule_id, version, layer, outcome, confidence, meaning)


NETTEST_RULES: tuple[Rule, ...] = (
    # One endpoint of a test (a host and port, a URL, or a bare lookup), judged step by step.
    # The layer recorded in a verdict is the step that failed (or the last one that succeeded).
    _r("steps.dns_fingerprint", DNS, B, 1.0, "An answer for the service's name is a known filtering address (a DNS fingerprint that confirms blocking in this country or at national/ISP scope)."),
    _r("steps.blockpage_fingerprint", HTTP, B, 1.0, "The response matches a blockpage fingerprint that confirms blocking in this country (no false-positive signature matched first)."),
    _r("steps.reached", WEB, K, 0.8, "Every recorded step to the endpoint succeeded (name resolved, connected, handshake done, a response arrived)."),
    _r("steps.lookup_ok", DNS, K, 0.7, "A name the test only looks up (no connection follows) resolved to routable addresses."),
    _r("steps.bogon_answer", DNS, B, 0.7, "The service's name resolved only to non-routable addresses, so the connection cannot reach it; public services never publish such answers."),
    _r("steps.bogon_not_used", DNS, U, 0.3, "A name the test only looks up resolved to a non-routable address; some services publish one on purpose (Signal's uptime.signal.org is 127.0.0.1), and no connection depended on it."),
    _r("steps.failed_network_ok", WEB, B, 0.6, "A step to the endpoint failed the way censors make it fail (timeout, reset, refusal, NXDOMAIN, cut handshake) while other steps of the same measurement succeeded, so the probe's network worked."),
    _r("steps.failed_nothing_worked", WEB, U, 0.4, "A step failed and no step of the measurement succeeded: the probe may have been offline, so without a control it cannot be called blocking."),
    _r("steps.probe_side_failure", WEB, U, 0.3, "The failure comes from the probe's own device or input (no IPv6 route, Android's opaque DNS error, an interrupted run, an unknown error), not from the path."),
    _r("steps.certificate_unverified", TLS, U, 0.4, "The handshake completed but the probe rejected the certificate; without a control this may be the probe's trust store or pinning (probe#2627), not an interceptor."),
    _r("steps.no_data", WEB, U, 0.0, "The test keys record no network step: nothing to judge (often a probe bug or a very old report format)."),
    # The summary of a measurement made of endpoints (IM tests, urlgetter, dnscheck, riseupvpn).
    _r("steps.all_reached", WEB, K, 0.8, "Every endpoint the test tried was reached."),
    _r("steps.partly_judged", WEB, K, 0.5, "The endpoints that could be judged were all reached; the others failed for reasons of the probe (listed), not of the network."),
    # Instant messaging (whatsapp, telegram, facebook_messenger, signal).
    _r("im.dns_outside_service_asn", DNS, B, 0.7, "Facebook's own name resolved to an address outside Facebook's network (AS32934) and connecting there failed: a forged answer."),
    _r("im.dns_outside_service_asn_reached", DNS, U, 0.4, "Facebook's name resolved outside AS32934 but the address answered: possibly an ISP cache node, not a forgery."),
    # Circumvention: tor (ts-023) targets, vanilla_tor / torsf bootstraps, psiphon, meek.
    _r("tor.targets_reachable", WEB, K, 0.8, "Most Tor targets (relays, directory authorities, bridges) were reached; a few failures are relays that are down for everyone."),
    _r("tor.targets_blocked", WEB, B, 0.6, "More than half of the Tor targets failed with censorship-typical failures while others, or other steps, succeeded."),
    _r("tor.targets_unjudged", WEB, U, 0.3, "The Tor targets did not run or their failures cannot be judged without a control."),
    _r("tunnel.bootstrapped", WEB, K, 0.85, "The tunnel (Tor, Snowflake, Psiphon) bootstrapped to 100%."),
    _r("tunnel.no_relay_reached", WEB, B, 0.6, "Vanilla Tor stayed below 10% until the timeout: it could not even connect to a relay, the signature of relay address blocking."),
    _r("tunnel.stalled_in_handshake", WEB, B, 0.5, "Vanilla Tor connected to a relay but stalled in the handshake (10-25%) until the timeout, the signature of DPI on Tor's TLS."),
    _r("tunnel.stalled_late", WEB, U, 0.4, "The bootstrap got past the relay handshake and then stalled: a slow or lossy network explains this as well as throttling."),
    _r("tunnel.never_started", WEB, U, 0.2, "The tunnel failed at 0%, before any network activity (a probe-side failure such as a broken data directory)."),
    _r("tunnel.snowflake_failed", WEB, U, 0.4, "Snowflake did not bootstrap; it depends on a broker and volunteer proxies, so a failure alone cannot be told from those being unavailable."),
    _r("tunnel.psiphon_bootstrap_failed", WEB, B, 0.5, "Psiphon, which tries many servers and protocols, could not bootstrap before the timeout."),
    _r("tunnel.failed_after_bootstrap", WEB, U, 0.4, "The tunnel bootstrapped but the fetch through it failed: the tunnel worked, the rest is not the path's doing."),
    _r("tunnel.failure_unexplained", WEB, U, 0.3, "The tunnel failed with a failure that says nothing about the path (unknown or interrupted)."),
    _r("meek.fronted_ok", HTTP, K, 0.8, "Every fronted request reached the meek server through the CDN."),
    _r("meek.front_refused", HTTP, D, 0.6, "The CDN answered the fronted request but not with the meek server's reply: the provider refuses fronting (Amazon and Azure ended it), a fault of the service, not the path."),
    # Middleboxes: ts-006 http_header_field_manipulation, ts-007 http_invalid_request_line.
    _r("middlebox.headers_modified", HTTP, T, 0.8, "The headers the helper received differ from those the probe sent (names, case, values or count): a middlebox rewrote the request."),
    _r("middlebox.headers_intact", HTTP, K, 0.8, "The helper received exactly the headers the probe sent."),
    _r("middlebox.request_line_answered", HTTP, T, 0.8, "An invalid request line came back different from what was sent (an error page, a rewritten line): something in the path parsed and answered it."),
    _r("middlebox.request_line_echoed", HTTP, K, 0.8, "Every invalid request line the probe sent came back byte for byte: nothing in the path parsed it."),
    _r("middlebox.helper_unreachable", HTTP, U, 0.2, "The test helper did not answer (or the test recorded no exchange), so there is nothing to compare; the legacy helpers are long shut down."),
    # Experimental: dnscheck (ts-028), stunreachability (ts-025), urlgetter (ts-027).
    _r("dnscheck.resolver_works", DNS, K, 0.8, "At least one of the resolver's endpoints answered the lookup."),
    _r("dnscheck.bootstrap_failed", DNS, U, 0.4, "The resolver's own name could not be resolved, so its endpoints were never tried."),
    _r("stun.binding_ok", UDP, K, 0.8, "The STUN server answered the binding request."),
    _r("stun.no_response", UDP, B, 0.5, "The STUN server's name resolved but its binding request got no answer before the timeout (UDP to it dropped)."),
    _r("stun.failure_unexplained", UDP, U, 0.3, "The STUN exchange failed and nothing shows the probe's network worked."),
    _r("urlgetter.input_unusable", WEB, U, 0.0, "urlgetter failed before any network activity (top-level failure, e.g. an input that is not a URL)."),
    _r("browser.loaded", WEB, K, 0.7, "The browser (ooniprobe-web) loaded the page."),
    _r("browser.load_failed", WEB, U, 0.3, "The browser could not load the page; with no step recorded and no control, the cause is unknown."),
    # Performance: ndt (ts-022), dash (ts-021).  Never blocked; the figures are kept for throttling evidence.
    _r("performance.measured", WEB, K, 0.9, "The speed test completed; its download/upload speeds and latency are kept as evidence for throttling analysis."),
    _r("performance.failed", WEB, U, 0.2, "The speed test failed; a failed performance test is not evidence of blocking."),
)

NETTEST_BY_ID: dict[str, Rule] = {r.rule_id: r for r in NETTEST_RULES}


def ruling(rule_id: str) -> Rule:
    """The rule ``rule_id`` of the table above (KeyError for an unknown id)."""
    return NETTEST_BY_ID[rule_id]
