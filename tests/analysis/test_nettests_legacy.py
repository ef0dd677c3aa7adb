"""Older report formats (2014-2018) keep ingesting, and give ``unknown`` where the evidence is missing.

Each row is a shape the archive holds: no ``control``, the probe's own ``blocking``
strings, conclusions without steps.  None may raise, and none may come out
``blocked`` on the probe's word alone.
"""

from __future__ import annotations

import pytest

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.analysis.web import analyze_measurement
from netvigil.model.measurement import measurement_from_dict

REFUSED = {"ip": "93.184.216.34", "port": 80, "status": {"success": False, "failure": "connection_refused_error"}}

# name -> (test_name, test_version, test keys, expected rule id)
LEGACY = {
    "web_connectivity 0.1 saying blocking=dns, no control": (
        "web_connectivity", "0.1.0", {"blocking": "dns", "accessible": False, "control_failure": "unknown_error",
                                      "tcp_connect": [REFUSED], "requests": [
                                          {"request": {"url": "http://x.org/"}, "failure": "connection_refused_error"}]},
        "tcp.failure_no_control"),
    "web_connectivity 0.1 saying blocking=tcp_ip, nothing else": (
        "web_connectivity", "0.1.0", {"blocking": "tcp_ip", "accessible": False}, "web.insufficient"),
    "web_connectivity 0.1 saying blocking=http-diff, nothing else": (
        "web_connectivity", "0.1.0", {"blocking": "http-diff"}, "web.insufficient"),
    "Measurement Kit whatsapp 2017, conclusions only": (
        "whatsapp", "0.6.0", {"registration_server_status": "blocked", "whatsapp_endpoints_status": "blocked",
                              "whatsapp_endpoints_blocked": ["e1.whatsapp.net"], "whatsapp_web_status": "blocked"},
        "steps.no_data"),
    "Measurement Kit telegram 2017, conclusions only": (
        "telegram", "0.0.2", {"telegram_tcp_blocking": True, "telegram_http_blocking": True}, "steps.no_data"),
    "facebook_messenger 0.3 with dashed keys only": (
        "facebook_messenger", "0.3.0", {"facebook-tcp-blocking": True, "facebook-edge-reachable": False},
        "steps.no_data"),
    "ooniprobe 2.x hhfm with a refused helper": (
        "http_header_field_manipulation", "0.1.5", {"requests": [{"request": {"url": "http://37.218.241.94:80",
                                                                              "headers": {"hOST": "x"}},
                                                                  "failure": "connection_refused_error"}],
                                                    "tampering": {"total": True}},
        "middlebox.helper_unreachable"),
    "Twisted vanilla_tor log, no failure recorded": (
        "vanilla_tor", "0.1.0", {"tor_log": "Bootstrapped 10%: Finishing handshake", "success": False},
        "tunnel.failure_unexplained"),
    "2016 ndt (ndt5) without a summary": ("ndt", "0.1.0", {"failure": None, "test_s2c": [], "test_c2s": []},
                                          "performance.measured"),
    "legacy http_requests (stored, not analysed)": (
        "http_requests", "0.2.4", {"body_length_match": None, "headers_match": False, "control_failure": None},
        "web.insufficient"),
    "legacy dns_consistency (stored, not analysed)": (
        "dns_consistency", "0.6", {"inconsistent": ["127.0.1.1"], "errors": {"127.0.1.1": True}}, "web.insufficient"),
}


@pytest.mark.parametrize("name", sorted(LEGACY))
def test_legacy_format(name):
    test_name, version, tk, rule_id = LEGACY[name]
    raw = {"test_name": test_name, "test_version": version, "measurement_start_time": "2017-03-01 10:00:00",
           "input": "http://x.org/" if test_name in ("web_connectivity", "http_requests") else None,
           "probe_cc": "IR", "test_keys": tk}
    s = analyze_measurement(measurement_from_dict(raw), FingerprintDB.empty()).summary
    assert s.rule.split("@")[0] == rule_id, s.to_dict()
    assert s.outcome.value in ("unknown", "ok"), s.to_dict()
    if s.outcome.value == "ok":  # only where the report holds the measured result itself
        assert test_name == "ndt"
