"""The read API over a seeded store: filters, one measurement, aggregation, incidents, signals."""

from __future__ import annotations

from pathlib import Path

import pytest
from observatory_helpers import XSS_HOST, Running, running, settings

from netvigil.engine import pipeline
from netvigil.store import rollup
from netvigil.store.database import open_database
from netvigil.store.db import open_store
from netvigil.store.reference_data import load_default_fingerprints
from netvigil.store.sources import check_record
from netvigil.testbed.synthetic import generate


def test_listing_filters_by_country_outcome_and_technique_and_pages(api: Running) -> None:
    page = api.client.get("/api/v1/measurements", params={"probe_cc": "IR", "outcome": "blocked", "limit": 5}).json()
    assert page["metadata"]["count"] == 5 and page["metadata"]["next_url"]
    assert all(r["probe_cc"] == "IR" and r["anomaly"] and r["outcome"] == "blocked" for r in page["results"])
    following = api.client.get(page["metadata"]["next_url"]).json()
    assert not {r["uid"] for r in following["results"]} & {r["uid"] for r in page["results"]}
    bogons = api.client.get("/api/v1/measurements", params={"technique": "dns.bogon", "limit": 1000}).json()
    assert bogons["results"] and {r["technique"] for r in bogons["results"]} == {"dns.bogon"}


def test_time_range_is_half_open(api: Running) -> None:
    rows = api.client.get("/api/v1/measurements", params={"since": "2026-10-05", "until": "2026-10-06",
                                                           "limit": 1000}).json()["results"]
    assert rows and all(r["measurement_start_time"].startswith("2026-10-05") for r in rows)


@pytest.mark.parametrize("query", [
    {"probe_cc": "IR' OR 1=1 --"}, {"probe_cc": "ir"}, {"probe_asn": "1234"}, {"domain": "../../etc/passwd"},
    {"since": "yesterday"}, {"limit": 0}, {"limit": 100_000}, {"technique": "dns.everything"}, {"outcome": "evil"},
])
def test_malformed_parameters_are_refused_with_a_json_error(api: Running, query: dict[str, object]) -> None:
    reply = api.client.get("/api/v1/measurements", params=query)
    assert reply.status_code == 422
    assert reply.json()["error"]["code"] == "invalid_parameter"


def test_one_measurement_has_verdicts_evidence_control_and_sha256(api: Running) -> None:
    uid = api.client.get("/api/v1/measurements", params={"technique": "dns.bogon", "limit": 1}).json()["results"][0]["uid"]
    doc = api.client.get(f"/api/v1/measurements/{uid}").json()
    assert doc["summary"]["technique"] == "dns.bogon" and doc["summary"]["evidence"]
    assert len(doc["sha256"]) == 64
    assert doc["comparison"]["dns"]["probe"][0]["answers"] != doc["comparison"]["dns"]["control"]["answers"]
    assert api.client.get("/api/v1/measurements/nope").status_code == 404


def test_aggregation_counts_add_up_and_match_the_listing(api: Running) -> None:
    held = api.client.get("/api/v1/health").json()["measurements"]
    by_country = api.client.get("/api/v1/aggregation", params={"axis_x": "probe_cc"}).json()["result"]
    assert sum(r["measurement_count"] for r in by_country) == held
    for row in by_country:
        assert row["ok_count"] + row["anomaly_count"] + row["failure_count"] == row["measurement_count"]
        assert row["confirmed_count"] <= row["anomaly_count"]
    ir = next(r for r in by_country if r["probe_cc"] == "IR")
    blocked = api.client.get("/api/v1/measurements", params={"probe_cc": "IR", "outcome": "blocked",
                                                              "limit": 1000}).json()["results"]
    assert ir["anomaly_count"] == len(blocked)
    assert ir["confirmed_count"] == sum(r["confirmed"] for r in blocked)


def test_aggregation_two_axes_and_csv(api: Running) -> None:
    rows = api.client.get("/api/v1/aggregation", params={"axis_x": "measurement_start_day", "axis_y": "category_code",
                                                          "probe_cc": "IR", "since": "2026-10-01",
                                                          "until": "2026-10-08"}).json()["result"]
    assert rows and all("2026-10-01" <= r["measurement_start_day"] < "2026-10-08" for r in rows)
    csv = api.client.get("/api/v1/aggregation", params={"axis_x": "probe_asn", "format": "CSV"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "probe_asn,ok_count,anomaly_count,confirmed_count,failure_count,measurement_count"
    same = api.client.get("/api/v1/aggregation", params={"axis_x": "probe_cc", "axis_y": "probe_cc"})
    assert same.status_code == 422


def test_countries_incidents_and_signals(api: Running) -> None:
    during = api.client.get("/api/v1/countries", params={"at": "2026-10-16"}).json()["countries"]
    states = {c["probe_cc"]: c for c in during}
    assert states["IR"]["state"] == "outage" and states["IR"]["numeric"] == "364"
    later = {c["probe_cc"]: c for c in api.client.get("/api/v1/countries").json()["countries"]}
    assert later["IR"]["state"] == "blocking"
    incidents = api.client.get("/api/v1/incidents", params={"country": "IR"}).json()["results"]
    assert len(incidents) == 1 and incidents[0]["level"] == "critical"
    one = api.client.get(f"/api/v1/incidents/{incidents[0]['id']}").json()
    assert one["signals"][0]["entity"] == "IR" and len(one["signals"][0]["points"]) > 100
    assert api.client.get("/api/v1/incidents/0000000000000000").status_code == 404
    series = api.client.get("/api/v1/signals", params={"entity": "IR", "since": "2026-10-14T00:00:00Z",
                                                        "until": "2026-10-15T00:00:00Z"}).json()["results"]
    assert len(series[0]["points"]) == 24
    assert api.client.get("/api/v1/signals", params={"entity": "../IR"}).status_code == 422


def test_country_overview_lists_blocked_domains_with_examples(api: Running) -> None:
    overview = api.client.get("/api/v1/countries/IR").json()
    domains = {b["domain"]: b for b in overview["blocked_domains"]}
    assert XSS_HOST in domains
    assert all(len(b["example_sha256"]) == 64 for b in overview["blocked_domains"])


def test_openapi_document_describes_every_route(api: Running) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/measurements", "/api/v1/measurements/{uid}", "/api/v1/measurements/{uid}/raw",
                 "/api/v1/aggregation", "/api/v1/countries", "/api/v1/incidents", "/api/v1/incidents/{incident_id}",
                 "/api/v1/signals"):
        assert path in paths
    assert "post" in paths["/api/v1/measurements"]


def test_report_downloads_cannot_leave_the_reports_folder(seeded_db: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "report-IR.html").write_text("<p>report</p>")
    (tmp_path / "secret.html").write_text("secret")
    with running(settings(seeded_db, reports_dir=reports)) as server:
        served = server.client.get("/reports/report-IR.html")
        assert served.status_code == 200 and "script-src" not in served.headers["content-security-policy"]
        for attempt in ("..%2Fsecret.html", "%2e%2e%2fsecret.html", "%2Fetc%2Fpasswd", ".hidden.html",
                        "report-IR.html%00.pdf", "report-IR.txt"):
            reply = server.client.get(f"/reports/{attempt}")
            assert reply.status_code == 404, attempt
            assert "secret" not in reply.text


def test_rollup_is_rebuilt_when_another_command_wrote_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "stale.duckdb"
    open_database(path).close()
    with open_store(path) as store:
        pipeline.ingest(store, [check_record("cli", f"line {i}", __import__("orjson").dumps(g.measurement))
                      for i, g in enumerate(generate(15, seed=4, max_body=1_000))], load_default_fingerprints())
    db = open_database(path)
    try:
        with db.read() as con:
            total = con.execute(f"SELECT sum(measurement_count) FROM {rollup.TABLE}").fetchall()[0][0]
    finally:
        db.close()
    assert total == 15
