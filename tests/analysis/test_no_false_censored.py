"""No false "censored" on real measurements: a standing scenario table.

Every real OONI measurement in the shared data (fastpath fixtures of ooni/backend,
probe-cli's manual runs and test data) is listed here with the outcome netvigil
must give and a one-line reason.  Web Connectivity rows name the exact outcome
and deciding rule.  Other tests (analysed by their own modules) must not come
out ``blocked`` unless the row says the measurement holds real evidence of it.
Files that are not measurements of a network are listed with the reason.  A new
file in those folders fails the completeness test until it gets a row.

Each measurement runs twice: with the measurement's own network data only, and
with an IP-to-ASN database (``$NETVIGIL_ASN_DB`` if set, else geoip2fast's
bundled data), since ASN lookups must never turn a verdict into ``blocked``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import orjson
import pytest

from netvigil.analysis.asn import AsnLookup
from netvigil.analysis.web import analyze_measurement
from netvigil.model.measurement import Measurement, measurement_from_dict
from netvigil.store.asn import default_asn_lookup, open_asn_lookup
from netvigil.store.reference_data import load_default_fingerprints, shared_data_dir
from netvigil.store.sources import Quarantined, SourceRecord, decode_record, iter_records

DATA = shared_data_dir()
FASTPATH = "ooni-backend/fastpath/fastpath/tests/data"
MANUAL = "ooni-probe-cli/internal/minipipeline/testdata/webconnectivity/manual"
PK = "ooni-probe-cli/internal/experiment/webconnectivitylte/testdata/20230706183840.201925_PK_webconnectivity_19f5e0d803cbaea7.jsonc"
OONIREPORT = "ooni-probe-cli/internal/cmd/oonireport/testdata/testmeasurement.json"
#: Folders whose every file must be in REAL or NOT_MEASUREMENTS.
REAL_FOLDERS = (FASTPATH, MANUAL, "ooni-probe-cli/internal/cmd/minipipeline/testdata",
                "ooni-probe-cli/internal/experiment/webconnectivitylte/testdata",
                "ooni-probe-cli/internal/cmd/oonireport/testdata", "ooni-probe-cli/internal/engine/testdata")
DOCS = (".md", ".txt")  # READMEs and the commands that produced a run
pytestmark = pytest.mark.skipif(not (DATA / FASTPATH).is_dir(), reason="shared OONI fixtures absent")

ANY_BUT_BLOCKED = "not blocked"
QUARANTINED = "quarantined"


@dataclass(frozen=True)
class Expect:
    outcome: str  # an Outcome value, ANY_BUT_BLOCKED, or QUARANTINED (the reader refuses the file)
    rule: str | None
    reason: str
    may_block: bool = False  # a non-web test whose data is real evidence of blocking


def ok(rule: str, reason: str) -> Expect:
    return Expect("ok", rule, reason)


def down(rule: str, reason: str) -> Expect:
    return Expect("down", rule, reason)


def blocked(rule: str, reason: str) -> Expect:
    return Expect("blocked", rule, reason)


def unknown(rule: str, reason: str) -> Expect:
    return Expect("unknown", rule, reason)


def not_blocked(reason: str) -> Expect:
    return Expect(ANY_BUT_BLOCKED, None, reason)


def may_block(reason: str) -> Expect:
    return Expect(ANY_BUT_BLOCKED, None, reason, may_block=True)


def quarantined(reason: str) -> Expect:
    return Expect(QUARANTINED, None, reason)


F, M = FASTPATH + "/", MANUAL + "/"

REAL: dict[str, Expect] = {
    # --- web_connectivity, fastpath fixtures (ooni/backend) ---
    F + "20250527233111.802678_ID_webconnectivity_5a37ec909dbf14e3.json": blocked(
        "http.blockpage_fingerprint", "ID 2025: archive.org redirects to Kominfo's blocking site (fingerprint)"),
    F + "bug_351.json": unknown("web.insufficient", "NL: the probe crashed on a non-ASCII header; no HTTP data"),
    F + "bug_352.json": blocked("dns.fingerprint", "IR: the national blocking address 10.10.34.36"),
    F + "report1.json": ok("http.matches_control", "US: the page matches the helper's"),
    F + "report1.json.pretty": ok("http.matches_control", "US: report1.json pretty-printed"),
    F + "report1blocked.json": ok("http.matches_control", "US: the same measurement as report1.json"),
    F + "report2.json": ok("http.https_verified", "ES: the page arrived over verified HTTPS"),
    F + "report2blocked.json": ok("http.https_verified", "ES: the same measurement as report2.json"),
    F + "requests_none.json": down(
        "dns.failure_reference_failed", "SK: defunct site; the helper's only answer is a CNAME (OONI: dns)"),
    F + "test_keys_none.json": unknown("web.insufficient", "US: test_keys is null"),
    F + "web_connectivity_b64_hdr.json": blocked(
        "http.redirect_to_bogon", "AU: a redirect to a firewall's user-check portal on a private address"),
    F + "web_connectivity_b64_incorrect.json": ok("http.matches_control", "MY: the page matches the helper's"),
    F + "web_connectivity_ir_fp.json": blocked("dns.fingerprint", "IR: facebook.com resolves to 10.10.34.36"),
    F + "web_connectivity_no_body.json": down("http.failure_control_failed", "IT: the helper's fetch fails too"),
    F + "web_connectivity_null.json": unknown("tcp.failure_no_control", "TM: a connect timeout and no control"),
    F + "web_connectivity_null2.json": down("http.failure_control_failed", "IR: the helper's fetch fails too"),
    F + "web_connectivity_odd_hdr.json": down(
        "dns.nxdomain_rewriting", "CN: NXDOMAIN for the helper; the ISP resolver redirects to a search page"),
    # --- web_connectivity, probe-cli manual runs and test data (developers in Italy) ---
    M + "8844/measurement.json": ok("http.false_positive_fingerprint", "IT: https://8.8.4.4/ loads (Google's page)"),
    M + "dnsgoogle80/measurement.json": down(
        "tcp.failure_control_failed", "IT: dns.google has no port 80; the helper cannot connect either"),
    M + "firefoxcom/measurement.json": ok("http.false_positive_fingerprint", "IT: firefox.com loads"),
    M + "issue-2456/measurement.json": ok("http.false_positive_fingerprint", "IT: the page loads"),
    M + "noipv6/measurement.json": ok("http.false_positive_fingerprint", "IT: loads over IPv4; the probe has no IPv6"),
    M + "youtube/measurement.json": ok("http.false_positive_fingerprint", "IT: youtube.com loads"),
    "ooni-probe-cli/internal/cmd/minipipeline/testdata/measurement.json": ok(
        "http.false_positive_fingerprint", "IT: the minipipeline example loads"),
    PK: down("tls.failure_control_failed",
             "PK: iCloud Private Relay refuses TLS for the helper too; IPv6 fails only for want of a route "
             "(OONI: dns, probe#2517)"),
    # --- other tests (their own analysis modules): never blocked without real evidence ---
    F + "browser_web.json": not_blocked("CA: viber.com loaded in a browser"),
    F + "browser_web_error.json": not_blocked("CA: a browser error for app.wire.com, no control"),
    F + "http_header_field_manipulation_1.json": not_blocked("IT: no middlebox data; tampering is never blocking"),
    F + "http_header_field_manipulation_2.json": not_blocked("BR: header manipulation is tampering, not blocking"),
    F + "http_header_field_manipulation_3.json": not_blocked("PK: header manipulation is tampering, not blocking"),
    F + "http_requests_1.json": may_block(
        "AT: extratorrent.com, headers differ from the Tor fetch (Austrian court-ordered torrent blocks)"),
    F + "mbx-1.json": not_blocked("PT: a middlebox rewrote invalid request lines: tampering, not blocking"),
    F + "mbx-2.json": not_blocked("SD: a middlebox rewrote invalid request lines: tampering, not blocking"),
    F + "meek.json": not_blocked("US: a meek front failed; no evidence of censorship in the US"),
    F + "meek2.json": not_blocked("IT: meek fronts reachable"),
    F + "meek3.json": not_blocked("meek fronts reachable (no country)"),
    F + "openvpn.json": not_blocked("RO: the riseup OpenVPN bootstrapped"),
    F + "riseupvpn.json": may_block("AF: the riseup API is reported blocked"),
    F + "signal_022.json": not_blocked("IT: the Signal backend is reachable"),
    F + "signal_2627.json": may_block("AM: the Signal backend's certificate was replaced (ssl_unknown_authority)"),
    F + "signal_679.json": not_blocked("US: an Android DNS cache failure; no censorship of Signal in the US"),
    F + "telegram_nourl.json": not_blocked("IT: Telegram reachable"),
    F + "tor.json": not_blocked("IT: Tor directory authorities and bridges reachable"),
    F + "tor_list.json": not_blocked("IT: Tor targets reachable"),
    F + "torsf_1.json": not_blocked("IT: a Snowflake bootstrap timeout; no control, Italy does not block Tor"),
    F + "torsf_2.json": not_blocked("IT: Snowflake bootstrapped"),
    F + "torsf_383.json": not_blocked("TH: a Snowflake bootstrap timeout alone is no evidence"),
    F + "vanilla_tor.json": may_block("CN: Tor cannot bootstrap in China (well documented blocking)"),
    F + "vanilla_tor_ok.json": not_blocked("BR: Tor bootstrapped"),
    F + "whatsapp.json": not_blocked("IE: web.whatsapp.com answered 400/403 to the old check (a known false positive)"),
    F + "yaml16_0.json": not_blocked("GB: the page matches the Tor fetch (http_requests)"),
    F + "yaml17_0.json": not_blocked("BE: google.com 'inconsistent' only at a local 127.0.1.1 resolver"),
    f"{OONIREPORT}#1": not_blocked("DE: urlgetter with an unknown URL scheme: a probe error"),
    f"{OONIREPORT}#2": not_blocked("DE: urlgetter with an unknown URL scheme: a probe error"),
    # --- legacy YAML reports: the reader accepts JSON only and quarantines them with a reason ---
    F + "binary_city.yaml": quarantined("IS 2015 http_requests, a YAML report"),
    F + "dns_n_http_bin_body.yaml": quarantined("a YAML report with binary bodies"),
    F + "http_invalid_request_line.yaml": quarantined("SG 2018 http_invalid_request_line, a YAML report"),
}

NOT_MEASUREMENTS: dict[str, str] = {
    F + "detector_query_ww_BR_2018.json": "fastpath summary rows (OONI's verdicts), not raw measurements",
    F + "fingerprints_dns.json": "a fingerprint database snapshot",
    F + "fingerprints_http.json": "a fingerprint database snapshot",
    "ooni-probe-cli/internal/engine/testdata/collector-expected.jsonl": "a collector round-trip of a 'dummy' test",
    "ooni-probe-cli/internal/cmd/oonireport/testdata/noentries.json": "an empty file",
}
for _case in ("8844", "dnsgoogle80", "firefoxcom", "issue-2456", "noipv6", "youtube"):
    for _derived in ("observations", "observations_classic", "analysis", "analysis_classic"):
        NOT_MEASUREMENTS[f"{M}{_case}/{_derived}.json"] = "OONI's minipipeline output derived from measurement.json"
for _derived in ("observations", "observations_classic", "analysis", "analysis_classic"):
    NOT_MEASUREMENTS[f"ooni-probe-cli/internal/cmd/minipipeline/testdata/{_derived}.json"] = "OONI's derived output"


@pytest.fixture(scope="module")
def fingerprints():
    return load_default_fingerprints()


@pytest.fixture(scope="module")
def asn_database() -> AsnLookup:
    configured = default_asn_lookup()
    if configured is not None:
        return configured
    pytest.importorskip("geoip2fast")
    return open_asn_lookup("geoip2fast")


def _measurement(key: str) -> Measurement | Quarantined:
    """The measurement as a user's ingest would read it (PK ships bare test keys)."""
    path, _, line = key.partition("#")
    if line:
        return measurement_from_dict(orjson.loads((DATA / path).read_bytes().splitlines()[int(line) - 1]))
    if path == PK:  # test_keys with // comments, from ooni/probe#2517: wrap in its envelope
        text = "\n".join(x for x in (DATA / PK).read_text().splitlines() if not x.lstrip().startswith("//"))
        return measurement_from_dict({"test_name": "web_connectivity", "measurement_start_time": "2023-07-06 18:38:40",
                                      "input": "https://mask.icloud.com/", "probe_cc": "PK", "probe_asn": "AS0",
                                      "test_keys": json.loads(text)})
    items = list(iter_records([str(DATA / path)]))
    assert len(items) == 1, items
    item = items[0]
    return decode_record(item) if isinstance(item, SourceRecord) else item


def test_every_real_file_is_listed():
    listed = {k.partition("#")[0] for k in REAL} | set(NOT_MEASUREMENTS)
    on_disk = {str(p.relative_to(DATA)) for folder in REAL_FOLDERS if (DATA / folder).is_dir()
               for p in (DATA / folder).rglob("*") if p.is_file() and p.suffix not in DOCS}
    assert on_disk - listed == set(), "new real data: give each file a row in REAL or NOT_MEASUREMENTS"
    assert {k for k in listed if (DATA / k).exists()} == listed & on_disk


@pytest.mark.parametrize("with_asn", [False, True], ids=["own-data", "asn-database"])
@pytest.mark.parametrize("key", sorted(REAL))
def test_no_false_censored(key, with_asn, fingerprints, request):
    expect = REAL[key]
    if not (DATA / key.partition("#")[0]).exists():
        pytest.skip("file absent from this copy of the shared data")
    m = _measurement(key)
    if expect.outcome == QUARANTINED:
        assert isinstance(m, Quarantined) and m.reason, expect.reason
        return
    assert isinstance(m, Measurement), m
    asn = request.getfixturevalue("asn_database") if with_asn else None
    summary = analyze_measurement(m, fingerprints, asn).summary
    got = summary.outcome.value
    if expect.outcome == ANY_BUT_BLOCKED:
        assert expect.may_block or got != "blocked", (expect.reason, summary.to_dict())
        return
    assert (got, summary.rule.split("@")[0]) == (expect.outcome, expect.rule), (expect.reason, summary.to_dict())


def test_the_table_checks_something_on_each_kind():
    """Guard against a table that only ever says 'not blocked'."""
    kinds = {e.outcome for e in REAL.values()}
    assert {"ok", "down", "blocked", "unknown", ANY_BUT_BLOCKED, QUARANTINED} <= kinds
    web = [k for k, e in REAL.items() if e.outcome not in (ANY_BUT_BLOCKED, QUARANTINED)]
    assert len(web) >= 25
