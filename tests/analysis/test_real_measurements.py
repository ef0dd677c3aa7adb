"""Real OONI measurements (fastpath fixtures and probe-cli manual runs) through the analysis.

Each row states what the measurement shows and the verdict netvigil must give;
OONI's own classic ``blocking`` key is cited where it differs, with the reason.
"""

from __future__ import annotations

import json

import pytest

from netvigil.analysis.web import analyze_measurement
from netvigil.model.measurement import measurement_from_dict
from netvigil.store.reference_data import load_default_fingerprints, shared_data_dir

FASTPATH = shared_data_dir() / "ooni-backend/fastpath/fastpath/tests/data"
MANUAL = shared_data_dir() / "ooni-probe-cli/internal/minipipeline/testdata/webconnectivity/manual"
pytestmark = pytest.mark.skipif(not FASTPATH.is_dir(), reason="shared OONI fixtures absent")

# file -> (summary technique, outcome, rule id, evidence that must be present)
EXPECTED = {
    # Iran's national DNS blocking address 10.10.34.36, confirmed by fingerprint.
    "web_connectivity_ir_fp.json": ("dns.bogon", "blocked", "dns.fingerprint", {"fingerprint": "ooni.ir_10dot10_ipv4_1"}),
    "bug_352.json": ("dns.bogon", "blocked", "dns.fingerprint", {"answer": "10.10.34.36"}),
    # Indonesia 2025: archive.org redirects to the government's blocking site (OONI classic: blocking=false).
    "20250527233111.802678_ID_webconnectivity_5a37ec909dbf14e3.json":
        ("http.blockpage", "blocked", "http.blockpage_fingerprint", {"fingerprint": "ooni.id_lamanlabuh_kominfo"}),
    # China: the helper says the name does not exist; China Telecom's resolver answers with
    # an address that redirects to search.114so.cn (ISP NXDOMAIN rewriting, OONI classic: dns).
    "web_connectivity_odd_hdr.json": ("down", "down", "dns.nxdomain_rewriting", {}),
    # Slovakia: NXDOMAIN; the helper's only "address" is the CNAME wikispaces.com and its own
    # fetch failed at DNS: the site is defunct (OONI classic: dns).
    "requests_none.json": ("down", "down", "dns.failure_reference_failed", {"reference_names": ["wikispaces.com"]}),
    # Australia: a redirect to a firewall's user-check portal on a private address.
    "web_connectivity_b64_hdr.json": ("http.blockpage", "blocked", "http.redirect_to_bogon", {}),
    # Netherlands: the probe crashed on a non-ASCII header; no HTTP data (OONI classic: http-failure).
    "bug_351.json": ("unknown", "unknown", "web.insufficient", {}),
    # The helper fails too: not censorship.
    "web_connectivity_no_body.json": ("down", "down", "http.failure_control_failed", {}),
    "web_connectivity_null2.json": ("down", "down", "http.failure_control_failed", {}),
    "report2.json": ("ok", "ok", "http.https_verified", {}),
    "test_keys_none.json": ("unknown", "unknown", "web.insufficient", {}),
}


@pytest.fixture(scope="module")
def fingerprints():
    return load_default_fingerprints()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fastpath_fixture_verdict(name, fingerprints):
    technique, outcome, rule_id, evidence = EXPECTED[name]
    m = measurement_from_dict(json.loads((FASTPATH / name).read_text()))
    summary = analyze_measurement(m, fingerprints).summary
    assert (summary.technique.value, summary.outcome.value) == (technique, outcome), summary.to_dict()
    assert summary.rule.split("@")[0] == rule_id
    for key, value in evidence.items():
        assert summary.evidence.get(key) == value


@pytest.mark.parametrize("name", ["8844", "dnsgoogle80", "firefoxcom", "issue-2456", "noipv6", "youtube"])
def test_manual_italian_runs_are_never_called_censored(name, fingerprints):
    path = MANUAL / name / "measurement.json"
    if not path.exists():
        pytest.skip("manual measurements absent")
    analysis = analyze_measurement(measurement_from_dict(json.loads(path.read_text())), fingerprints)
    assert analysis.summary.outcome.value != "blocked", analysis.summary.to_dict()
    obs = analysis.observations  # 8844 is an IP-literal URL (no DNS); dnsgoogle80 never got HTTP
    assert obs is not None and obs.endpoints and (obs.dns or obs.http)


def test_indonesian_redirect_blockpage_explains_the_rest_of_the_chain(fingerprints):
    """The page fetched after the redirect to the blocking site is a consequence, not a second finding."""
    m = measurement_from_dict(json.loads((FASTPATH / "20250527233111.802678_ID_webconnectivity_5a37ec909dbf14e3.json")
                                         .read_text()))
    verdicts = analyze_measurement(m, fingerprints).verdicts
    assert [(v.layer.value, v.technique.value, v.depth) for v in verdicts] == [
        ("dns", "ok", 0), ("http", "http.blockpage", 0)]
