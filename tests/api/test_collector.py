"""The collector: stored before the 200, deduplicated, quarantined with reasons, guarded."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
from observatory_helpers import API_KEY, Running, auth, running, settings

from netvigil.store.db import open_store
from netvigil.testbed.synthetic import generate


def _measurements(n: int, seed: int = 3) -> list[bytes]:
    return [orjson.dumps(g.measurement) for g in generate(n, seed=seed, max_body=2_000)]


def test_one_measurement_is_stored_with_its_exact_bytes_then_deduplicated(fresh: Running) -> None:
    body = _measurements(1)[0]
    first = fresh.client.post("/api/v1/measurements", content=body, headers=auth())
    assert first.status_code == 200
    record = first.json()["records"][0]
    assert record["status"] == "stored"
    assert record["sha256"] == hashlib.sha256(body).hexdigest()
    raw = fresh.client.get(f"/api/v1/measurements/{record['uid']}/raw")
    assert raw.content == body
    again = fresh.client.post("/api/v1/measurements", content=body, headers=auth())
    assert again.json()["records"][0] == {**record, "status": "duplicate", "position": "body"}


def test_a_batch_stores_the_good_records_and_quarantines_each_bad_one_with_its_reason(tmp_path: Path) -> None:
    good = _measurements(3)
    wrong_country = orjson.loads(good[0]) | {"probe_cc": "<b>x</b>", "input": "https://other.example/"}
    lines = [good[0], b"{not json", good[1], orjson.dumps(wrong_country), b"[1, 2]", good[2], good[1]]
    db = tmp_path / "batch.duckdb"
    with running(settings(db)) as server:
        reply = server.client.post("/api/v1/measurements", content=b"\n".join(lines),
                                   headers=auth("application/x-ndjson"))
    assert reply.status_code == 200
    body = reply.json()
    assert (body["received"], body["stored"], body["duplicates"], body["quarantined"]) == (7, 3, 1, 3)
    statuses = {r["position"]: r["status"] for r in body["records"]}
    assert statuses == {"line 1": "stored", "line 2": "quarantined", "line 3": "stored", "line 4": "quarantined",
                        "line 5": "quarantined", "line 6": "stored", "line 7": "duplicate"}
    reasons = {r["position"]: r["reason"] for r in body["records"] if r["status"] == "quarantined"}
    assert reasons["line 2"].startswith("not JSON")
    assert "probe_cc" in reasons["line 4"]
    assert "not an object" in reasons["line 5"]
    with open_store(db, read_only=True) as store:
        assert store.counts()["measurements"] == 3
        kept = {(q["position"], q["reason"]) for q in store.quarantine_entries()}
    assert kept == set(reasons.items())


def test_a_lone_refused_record_answers_422_and_is_quarantined(fresh: Running) -> None:
    reply = fresh.client.post("/api/v1/measurements", content=b'{"test_name": "web_connectivity"}', headers=auth())
    assert reply.status_code == 422
    assert "missing required field" in reply.json()["records"][0]["reason"]


def test_writers_need_a_valid_key(fresh: Running, tmp_path: Path) -> None:
    body = _measurements(1)[0]
    missing = fresh.client.post("/api/v1/measurements", content=body, headers={"Content-Type": "application/json"})
    wrong = fresh.client.post("/api/v1/measurements", content=body,
                              headers={"Authorization": "Bearer " + "x" * len(API_KEY),
                                       "Content-Type": "application/json"})
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert wrong.json()["error"]["code"] == "unauthorized"
    with running(settings(tmp_path / "nokeys.duckdb", api_keys=())) as closed:
        refused = closed.client.post("/api/v1/measurements", content=body, headers=auth())
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "collector_disabled"


def test_oversize_malformed_and_unsupported_requests_get_clear_4xx(tmp_path: Path) -> None:
    with running(settings(tmp_path / "limits.duckdb", max_body_bytes=10_000, max_batch_records=2)) as server:
        post = server.client.post
        too_big = post("/api/v1/measurements", content=b"x" * 10_001, headers=auth())
        too_many = post("/api/v1/measurements", content=b"\n".join(_measurements(3, seed=5)[:3]),
                        headers=auth("application/x-ndjson"))
        wrong_type = post("/api/v1/measurements", content=b"a=b", headers=auth("application/x-www-form-urlencoded"))
        empty = post("/api/v1/measurements", content=b"  ", headers=auth())
    assert (too_big.status_code, too_big.json()["error"]["code"]) == (413, "payload_too_large")
    assert (too_many.status_code, too_many.json()["error"]["code"]) == (413, "batch_too_large")
    assert (wrong_type.status_code, wrong_type.json()["error"]["code"]) == (415, "unsupported_media_type")
    assert (empty.status_code, empty.json()["error"]["code"]) == (400, "empty_body")


def test_a_writer_over_its_rate_gets_429_with_retry_after(tmp_path: Path) -> None:
    body = _measurements(1)[0]
    with running(settings(tmp_path / "rate.duckdb", write_rate=0.5, write_burst=2)) as server:
        codes = [server.client.post("/api/v1/measurements", content=body, headers=auth()) for _ in range(3)]
    assert [c.status_code for c in codes] == [200, 200, 429]
    assert codes[2].json()["error"]["code"] == "rate_limited"
    assert int(codes[2].headers["retry-after"]) >= 1


def test_collected_measurements_enter_the_aggregation_at_once(fresh: Running) -> None:
    lines = _measurements(20, seed=9)
    fresh.client.post("/api/v1/measurements", content=b"\n".join(lines), headers=auth("application/x-ndjson"))
    total = fresh.client.get("/api/v1/aggregation").json()["result"][0]
    assert total["measurement_count"] == 20
    assert total["ok_count"] + total["anomaly_count"] + total["failure_count"] == 20
