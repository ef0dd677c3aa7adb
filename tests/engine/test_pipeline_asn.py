"""``$NETVIGIL_ASN_DB`` turns ASN lookups on for ingest and ``netvigil verdicts`` (engine/pipeline.py)."""

from __future__ import annotations

import orjson

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.engine.pipeline import verdict_lines
from netvigil.store.asn import ENV_VAR, default_asn_lookup
from netvigil.store.sources import iter_records

CDN_ANSWER, CONTROL_ADDR = "11.1.1.10", "11.2.2.5"


def _measurement() -> dict:
    page = "<html><title>Example Domain Homepage</title>" + "x" * 1500 + "</html>"
    return {"test_name": "web_connectivity", "measurement_start_time": "2026-12-01 10:00:00",
            "input": "http://www.example.org/", "probe_cc": "ZZ", "probe_asn": "AS64496",
            "test_keys": {
                "queries": [{"hostname": "www.example.org", "query_type": "A", "engine": "system", "failure": None,
                             "answers": [{"answer_type": "A", "ipv4": CDN_ANSWER}]}],
                "tcp_connect": [{"ip": CDN_ANSWER, "port": 80, "status": {"success": True, "failure": None}}],
                "requests": [{"request": {"url": "http://www.example.org/", "method": "GET"}, "failure": None,
                              "response": {"code": 200, "body": page, "headers": {}}}],
                "control": {"dns": {"failure": None, "addrs": [CONTROL_ADDR]}, "tcp_connect": {},
                            "http_request": {"status_code": 200, "body_length": len(page),
                                             "title": "Example Domain Homepage", "headers": {}, "failure": None}},
                "control_failure": None}}


def _dns_rule(path) -> str:
    doc = orjson.loads(next(verdict_lines(iter_records([str(path)]), FingerprintDB.empty())))
    return next(v["rule"] for v in doc["verdicts"] if v["layer"] == "dns")


def test_asn_database_from_the_environment(tmp_path, monkeypatch):
    data = tmp_path / "m.jsonl"
    data.write_bytes(orjson.dumps(_measurement()) + b"\n")
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert default_asn_lookup() is None
    assert _dns_rule(data).startswith("dns.inconsistent_content_ok@")
    ranges = tmp_path / "asn-ipv4.csv"
    ranges.write_text('11.1.1.0,11.1.1.255,64500,"Example CDN, Inc."\n11.2.2.0,11.2.2.255,64500,"Example CDN, Inc."\n')
    monkeypatch.setenv(ENV_VAR, str(ranges))
    assert _dns_rule(data).startswith("dns.consistent_asn@")
