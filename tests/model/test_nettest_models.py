"""Typed test keys of the non-web tests: legacy shapes read, wrong types refused, nothing else raised."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.analysis.nettests import NETTEST_ANALYSERS
from netvigil.analysis.web import analyze_measurement
from netvigil.model.circumvention import parse_bootstrap, parse_meek, parse_tor
from netvigil.model.errors import BadRecord
from netvigil.model.experimental import parse_dnscheck
from netvigil.model.im import parse_im
from netvigil.model.measurement import measurement_from_dict
from netvigil.model.middlebox import parse_header_manipulation, parse_request_line
from netvigil.model.performance import parse_ndt
from netvigil.model.steps import parse_steps


def test_facebook_keys_with_dashes_read_as_underscores():
    keys = parse_im("facebook_messenger", {"facebook-tcp-blocking": True, "facebook-edge-dns-consistent": False,
                                           "facebook_star_reachable": True})
    assert keys.probe_status == {"facebook_tcp_blocking": True}
    assert keys.facebook_dns_consistent["edge"] is False and keys.facebook_reachable["star"] is True


def test_im_failures_use_the_one_vocabulary():
    keys = parse_im("whatsapp", {"whatsapp_web_failure": "connection_refused_error", "whatsapp_web_status": "blocked"})
    assert keys.probe_status == {"whatsapp_web_failure": "connection_refused", "whatsapp_web_status": "blocked"}


def test_tor_targets_as_map_and_as_the_early_list():
    as_map = parse_tor({"targets": {"abc": {"target_address": "1.2.3.4:443", "target_protocol": "or_port",
                                            "failure": False, "summary": {"connect": {"failure": None}}}}})
    assert not as_map.list_format and as_map.targets[0].ran is False and as_map.targets[0].failure is None
    as_list = parse_tor({"targets": [{"target_address": "1.2.3.4:80", "target_protocol": "dir_port", "failure": None}]})
    assert as_list.list_format and as_list.targets[0].target_id == "1.2.3.4:80"


def test_twisted_era_tor_log():
    keys = parse_bootstrap("vanilla_tor", {"tor_log": "Bootstrapped 5%: x\nBootstrapped 100%: Done"})
    assert (keys.progress, keys.success) == (100, True)


def test_a_single_tcp_connect_object_is_one_step():
    s = parse_steps({"tcp_connect": {"ip": "198.252.153.109", "port": 443, "status": {"success": True}}})
    assert [(t.ip, t.port, t.success) for t in s.tcp_connect] == [("198.252.153.109", 443, True)]


def test_meek_host_header_in_both_shapes():
    new = parse_meek({"requests": [{"request": {"url": "https://a", "headers": {"Host": "f.net"}}}]}, ["a", "f.net"])
    old = parse_meek({"requests": [{"request": {"url": "https://a", "headers": [["Host", ["f.net"]]]}}]}, None)
    assert new.requests[0].front_host == old.requests[0].front_host == "f.net" and new.inputs == ("a", "f.net")


def test_header_names_keep_their_case():
    keys = parse_header_manipulation({"requests": [{"request": {"headers": {"hOST": "x"}}, "response": {
        "body": '{"headers_dict": {"Host": ["x"]}}'}}]})
    assert keys.exchanges[0].sent == (("hOST", "x"),) and keys.exchanges[0].received == (("Host", "x"),)


def test_ndt5_and_ndt7_summaries():
    assert parse_ndt({"summary": {"download": 10.0, "avg_rtt": 5.0}}).figures() == {"download_kbps": 10.0, "avg_rtt_ms": 5.0}
    assert parse_ndt({"simple": {"download": 7.0, "ping": 9.0}}).figures() == {"download_kbps": 7.0, "avg_rtt_ms": 9.0}


@pytest.mark.parametrize(("parse", "tk"), [
    (lambda tk: parse_steps(tk), {"queries": "x"}),
    (lambda tk: parse_tor(tk), {"targets": 3}),
    (lambda tk: parse_dnscheck(tk), {"lookups": []}),
    (lambda tk: parse_request_line(tk), {"sent": "GET"}),
    (lambda tk: parse_header_manipulation(tk), {"requests": {"a": 1}}),
    (lambda tk: parse_im("signal", tk), {"tcp_connect": [1]}),
])
def test_wrong_json_types_are_bad_records(parse, tk):
    with pytest.raises(BadRecord):
        parse(tk)


JSON = st.recursive(st.none() | st.booleans() | st.integers(-5, 70000) | st.floats(allow_nan=False, width=32)
                    | st.sampled_from(["", "ok", "blocked", "generic_timeout_error", "1.2.3.4", "https://x.org/"]),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
                        ["queries", "tcp_connect", "tls_handshakes", "requests", "failure", "targets", "summary",
                         "lookups", "bootstrap", "sent", "received", "simple", "status", "ip", "port", "answers",
                         "hostname", "ipv4", "success", "tor_progress", "response", "request", "url", "body",
                         "headers", "code", "endpoint", "result", "tampering"]), inner, max_size=6), max_leaves=20)
NEVER_BLOCKED = {"ndt", "dash", "http_header_field_manipulation", "http_invalid_request_line", "browser_web"}


@settings(max_examples=300, deadline=None)
@given(test_name=st.sampled_from(sorted(NETTEST_ANALYSERS)), test_keys=st.dictionaries(
    st.sampled_from(["queries", "tcp_connect", "tls_handshakes", "requests", "failure", "targets", "summary",
                     "lookups", "bootstrap", "sent", "received", "simple", "endpoint", "result", "tor_progress",
                     "tampering", "bootstrap_time", "success"]), JSON, max_size=6))
def test_any_test_keys_give_a_verdict_or_a_bad_record(test_name, test_keys):
    raw = {"test_name": test_name, "measurement_start_time": "2026-11-30 00:00:00", "test_keys": test_keys}
    try:
        analysis = analyze_measurement(measurement_from_dict(raw), FingerprintDB.empty())
    except BadRecord:
        return
    orjson.dumps([v.to_dict() for v in (analysis.summary, *analysis.verdicts)])  # evidence stays JSON
    if test_name in NEVER_BLOCKED:
        assert all(v.outcome.value != "blocked" for v in (analysis.summary, *analysis.verdicts))
