"""Ground truth for OONI's 50 labelled web_connectivity QA scenarios.

probe-cli's ``internal/minipipeline/testdata/webconnectivity/generated`` holds one
netem-simulated measurement per scenario; the directory name states what the
simulated network did.  The technique each should get is derived here from that
name, from the scenario's data (what the helper saw) and from OONI's own
``analysis.json`` beside it.  Where OONI's classic ``blocking`` key disagrees with
the scenario's definition, the definition wins and the reason is noted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.analysis.web import analyze_measurement
from netvigil.model.measurement import measurement_from_dict
from netvigil.model.verdict import Outcome
from netvigil.model.verdict import Technique as T

#: scenario name -> expected summary technique.
EXPECTED: dict[str, T] = {
    # The site itself is broken: the helper fails exactly like the probe.
    "badSSLWithExpiredCertificate": T.DOWN,
    "badSSLWithWrongServerName": T.DOWN,
    "badSSLWithUnknownAuthorityWithConsistentDNS": T.DOWN,
    # DNS points the probe at a server with a certificate nobody trusts.
    "badSSLWithUnknownAuthorityWithInconsistentDNS": T.DNS_SPOOF,
    # A CDN challenge page (OONI classic says http-diff: a false positive).
    "cloudflareCAPTCHAWithHTTP": T.OK,
    "cloudflareCAPTCHAWithHTTPS": T.OK,
    # The helper is unreachable, the site works.
    "controlFailureWithSuccessfulHTTPSWebsite": T.OK,
    "controlFailureWithSuccessfulHTTPWebsite": T.OK,
    "dnsBlockingAndroidDNSCacheNoData": T.DNS_NXDOMAIN,
    "dnsBlockingBOGON": T.DNS_BOGON,
    "dnsBlockingNXDOMAIN": T.DNS_NXDOMAIN,
    "dnsHijackingToLocalhostWithHTTP": T.DNS_BOGON,
    "dnsHijackingToLocalhostWithHTTPS": T.DNS_BOGON,
    # DNS sends the probe to a transparent proxy in its own network that serves the
    # real site with its real certificate, while the probe's DoH lookup names the
    # real address: DNS tampering (outcome "tampered"), but nothing is denied
    # (OONI: accessible=true, blocking=false; never "blocked" here either).
    "dnsHijackingToProxyWithHTTPSURL": T.DNS_SPOOF,
    "dnsHijackingToProxyWithHTTPURL": T.DNS_SPOOF,
    # The resolver answers for a name that does not exist, pointing at a blockpage server.
    "ghostDNSBlockingWithHTTP": T.DNS_SPOOF,
    "ghostDNSBlockingWithHTTPS": T.DNS_SPOOF,
    "httpBlockingConnectionReset": T.HTTP_RESET,
    "httpDiffWithConsistentDNS": T.HTTP_DIFF,
    "httpDiffWithInconsistentDNS": T.DNS_SPOOF,
    "idnaWithoutCensorshipLowercase": T.OK,
    "idnaWithoutCensorshipWithFirstLetterUppercase": T.OK,
    "largeFileWithHTTP": T.OK,
    "largeFileWithHTTPS": T.OK,
    # The name really resolves to 127.0.0.1, for the helper too: unusable for everyone.
    "localhostWithHTTP": T.DOWN,
    "localhostWithHTTPS": T.DOWN,
    # The origin's own redirect has no usable host (OONI classic: http-failure).
    "redirectWithBrokenLocationForHTTP": T.DOWN,
    "redirectWithBrokenLocationForHTTPS": T.DOWN,
    # A redirect leads to a second host that the censor blocks (hop 1).
    "redirectWithConsistentDNSAndThenConnectionRefusedForHTTP": T.TCP_REFUSED,
    "redirectWithConsistentDNSAndThenConnectionRefusedForHTTPS": T.TCP_REFUSED,
    "redirectWithConsistentDNSAndThenConnectionResetForHTTP": T.HTTP_RESET,
    "redirectWithConsistentDNSAndThenConnectionResetForHTTPS": T.TLS_RESET,
    "redirectWithConsistentDNSAndThenEOFForHTTP": T.HTTP_EOF,
    "redirectWithConsistentDNSAndThenEOFForHTTPS": T.TLS_EOF,
    "redirectWithConsistentDNSAndThenNXDOMAIN": T.DNS_NXDOMAIN,
    "redirectWithConsistentDNSAndThenTimeoutForHTTP": T.HTTP_TIMEOUT,
    "redirectWithConsistentDNSAndThenTimeoutForHTTPS": T.TLS_TIMEOUT,
    # The origin redirects forever; the helper gives up too.
    "redirectWithMoreThanTenRedirectsAndHTTP": T.DOWN,
    "redirectWithMoreThanTenRedirectsAndHTTPS": T.DOWN,
    "successWithHTTP": T.OK,
    "successWithHTTPS": T.OK,
    "tcpBlockingConnectTimeout": T.TCP_TIMEOUT,
    "tcpBlockingConnectionRefusedWithInconsistentDNS": T.DNS_SPOOF,
    "throttlingWithHTTP": T.THROTTLING,
    "throttlingWithHTTPS": T.THROTTLING,
    "tlsBlockingConnectionResetWithConsistentDNS": T.TLS_RESET,
    "tlsBlockingConnectionResetWithInconsistentDNS": T.DNS_SPOOF,
    "websiteDownNXDOMAIN": T.DOWN,
    "websiteDownNoAddrs": T.DOWN,
    "websiteDownTCPConnect": T.DOWN,
}

#: Hop at which the interference happens, for scenarios where it is not hop 0.
EXPECTED_DEPTH: dict[str, int] = {
    name: 1 for name in EXPECTED if name.startswith("redirectWithConsistentDNSAndThen")
}

#: Scenarios without interference: netvigil must never call these blocked.
NO_INTERFERENCE_PREFIXES = ("success", "websiteDown", "idna", "largeFile", "cloudflareCAPTCHA", "controlFailure")
NO_INTERFERENCE_EXACT = ("badSSLWithExpiredCertificate", "badSSLWithWrongServerName",
                         "badSSLWithUnknownAuthorityWithConsistentDNS")


def without_interference(name: str) -> bool:
    return name.startswith(NO_INTERFERENCE_PREFIXES) or name in NO_INTERFERENCE_EXACT


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    name: str
    expected: T
    got: T
    outcome: Outcome
    depth: int
    rule: str
    ooni_blocking: object

    @property
    def agrees(self) -> bool:
        return self.got is self.expected and self.depth == EXPECTED_DEPTH.get(self.name, self.depth)

    @property
    def false_censorship(self) -> bool:
        return without_interference(self.name) and self.outcome is Outcome.BLOCKED


QA_SUBDIR = "ooni-probe-cli/internal/minipipeline/testdata/webconnectivity/generated"


def evaluate(scenarios_dir: Path, fingerprints: FingerprintDB) -> list[ScenarioResult]:
    """Analyse every labelled scenario found under ``scenarios_dir`` (one folder each)."""
    results = []
    for name, expected in sorted(EXPECTED.items()):
        path = scenarios_dir / name / "measurement.json"
        if not path.exists():
            continue
        m = measurement_from_dict(orjson.loads(path.read_bytes()))
        summary = analyze_measurement(m, fingerprints).summary
        results.append(ScenarioResult(name, expected, summary.technique, summary.outcome, summary.depth,
                                      summary.rule, (m.test_keys or {}).get("blocking")))
    return results
