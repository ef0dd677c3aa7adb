"""Parsing of df-000 envelopes and web_connectivity test keys."""

from __future__ import annotations

import base64
import copy

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from netvigil.failures import Failure, normalize_failure
from netvigil.model.body import decode_body, decode_headers
from netvigil.model.errors import BadRecord
from netvigil.model.measurement import measurement_from_dict
from netvigil.model.web_connectivity import parse_web_connectivity

BASE = {
    "test_name": "web_connectivity", "test_version": "0.4.3", "input": "http://example.org/",
    "measurement_start_time": "2026-01-02 03:04:05", "probe_cc": "IT", "probe_asn": "AS30722",
    "report_id": "r1", "x_unmodelled_field": {"kept": [1, 2, 3]},
    "test_keys": {
        "queries": [{"hostname": "example.org", "query_type": "A", "engine": "system", "failure": None,
                     "answers": [{"answer_type": "A", "ipv4": "93.184.215.14", "asn": 15133}]}],
        "tcp_connect": [{"ip": "93.184.215.14", "port": 80, "status": {"success": True, "failure": None}}],
        # time-reversed: the final response first
        "requests": [
            {"failure": None, "request": {"url": "http://www.example.org/"},
             "response": {"code": 200, "body": {"format": "base64", "data": base64.b64encode(b"\xff\xfe<title>Hi there</title>").decode()},
                          "headers_list": [["Server", "x"], ["X-Cache", {"format": "base64", "data": "aGl0"}]]}},
            {"failure": None, "request": {"url": "http://example.org/"},
             "response": {"code": 301, "headers": {"Location": "http://www.example.org/"}, "body": ""}},
        ],
        "control": {"dns": {"failure": "dns_name_error", "addrs": []},
                    "tcp_connect": {"93.184.215.14:80": {"status": False, "failure": "connection_refused_error"}},
                    "http_request": {"status_code": -1, "body_length": -1, "failure": "dns_lookup_error"}},
    },
}


def test_envelope_and_unmodelled_fields_survive():
    m = measurement_from_dict(copy.deepcopy(BASE))
    assert (m.probe_cc, m.probe_asn, m.test_name) == ("IT", "AS30722", "web_connectivity")
    assert m.raw["x_unmodelled_field"] == {"kept": [1, 2, 3]}
    assert m.uid == measurement_from_dict(copy.deepcopy(BASE)).uid  # stable, content-derived


def test_requests_are_put_in_time_order_with_hops():
    keys = parse_web_connectivity(BASE["test_keys"])
    assert [r.url for r in keys.requests] == ["http://example.org/", "http://www.example.org/"]
    assert [r.depth for r in keys.requests] == [0, 1]
    final = keys.requests[-1]
    assert final.body == b"\xff\xfe<title>Hi there</title>"
    assert final.title == "Hi there"
    assert final.headers == (("server", "x"), ("x-cache", "hit"))
    assert keys.requests[0].header("location") == "http://www.example.org/"


def test_legacy_control_failures_are_normalised():
    control = parse_web_connectivity(BASE["test_keys"]).control
    assert control.dns_failure == Failure.DNS_NXDOMAIN_ERROR
    assert control.tcp["93.184.215.14:80"].failure == Failure.CONNECTION_REFUSED
    assert control.http.status_code is None and control.http.body_length is None


def test_v05_tags_give_depth_classic_and_side_checks():
    tk = {"tcp_connect": [{"ip": "1.1.1.1", "port": 443, "status": {"success": True},
                           "tags": ["classic", "depth=2", "fetch_body=false"]}]}
    t = parse_web_connectivity(tk).tcp_connect[0]
    assert (t.depth, t.classic, t.fetch_body) == (2, True, False)


BAD_ENVELOPES = {
    "not an object": ([1, 2], "not an object"),
    "missing test_name": ({**BASE, "test_name": None}, "test_name"),
    "missing start time": ({k: v for k, v in BASE.items() if k != "measurement_start_time"}, "measurement_start_time"),
    "bad start time": ({**BASE, "measurement_start_time": "yesterday"}, "measurement_start_time"),
    "unknown test": ({**BASE, "test_name": "web_konnectivity"}, "unknown test_name"),
    "test_keys not an object": ({**BASE, "test_keys": [1]}, "test_keys"),
}


@pytest.mark.parametrize("name", BAD_ENVELOPES)
def test_bad_envelopes_name_their_reason(name):
    obj, reason = BAD_ENVELOPES[name]
    with pytest.raises(BadRecord, match=reason):
        measurement_from_dict(obj)


def test_hidden_vantage_point_defaults_to_oonis_values():
    m = measurement_from_dict({**BASE, "probe_cc": None, "probe_asn": None})
    assert (m.probe_cc, m.probe_asn) == ("ZZ", "AS0")


def test_wrong_types_in_test_keys_are_bad_records():
    with pytest.raises(BadRecord, match="queries"):
        parse_web_connectivity({"queries": {"not": "a list"}})
    with pytest.raises(BadRecord):
        parse_web_connectivity({"requests": ["not an object"]})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.just(5) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10,
)


FIELDS = ["answers", "hostname", "failure", "ip", "port", "status", "tags", "address", "server_name",
          "request", "response", "url", "code", "body", "headers", "headers_list", "dns", "addrs",
          "tcp_connect", "tls_handshake", "http_request", "ip_info", "asn", "ipv4", "answer_type"]
record = st.dictionaries(st.sampled_from(FIELDS), json_values | st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4), max_size=6)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(st.sampled_from(["queries", "tcp_connect", "tls_handshakes", "requests",
                                        "network_events", "control", "control_failure"]),
                       st.lists(record, max_size=3) | record | json_values))
def test_parser_never_raises_anything_but_bad_record(tk):
    try:
        parse_web_connectivity(tk)
    except BadRecord:
        pass


@given(json_values)
def test_normalize_failure_always_returns_vocabulary_or_unknown(value):
    out = normalize_failure(value)
    assert out is None or out in {f.value for f in Failure} or out.startswith("unknown_failure")


@given(st.binary(max_size=200))
def test_base64_bodies_round_trip(data):
    assert decode_body({"format": "base64", "data": base64.b64encode(data).decode()}) == data


@given(json_values, json_values)
def test_header_decoding_never_raises(headers, headers_list):
    for name, value in decode_headers(headers, headers_list):
        assert name == name.lower() and isinstance(value, str)


WRONG_SHAPES = {
    "answers is a number": {"queries": [{"answers": 5}]},
    "control addrs is a number": {"control": {"dns": {"addrs": 5}}},
    "ip_info is a list": {"control": {"ip_info": [1]}},
    "control is a number": {"control": 5},
    "tcp status is a string": {"tcp_connect": [{"ip": "192.0.2.1", "status": "x"}]},
}


@pytest.mark.parametrize("name", WRONG_SHAPES)
def test_wrong_shapes_are_bad_records(name):
    with pytest.raises(BadRecord):
        parse_web_connectivity(WRONG_SHAPES[name])
