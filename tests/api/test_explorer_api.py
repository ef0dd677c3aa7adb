"""The explorer API over a real store: search filters, sorting, paging, downloads, drill-downs."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from explorer_seed import IR_DNS_NETWORKS, IR_HTTP_ONLY, UG_SINCE, seed_explorer, variant
from observatory_helpers import XSS_HOST, Running, auth, running, settings

from netvigil.engine import pipeline
from netvigil.store import explorer
from netvigil.store.database import open_database
from netvigil.store.db import open_store
from netvigil.store.reference_data import load_default_fingerprints
from netvigil.store.sources import check_record


@pytest.fixture(scope="module")
def story_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("explorer-api") / "netvigil.duckdb"
    seed_explorer(path)
    return path


@pytest.fixture(scope="module")
def server(story_db: Path) -> Iterator[Running]:
    with running(settings(story_db)) as s:
        yield s


def _search(server: Running, **params: object) -> dict[str, object]:
    reply = server.client.get("/api/v1/search", params={k: v for k, v in params.items() if v is not None})
    assert reply.status_code == 200, reply.text
    return reply.json()


# (filter, predicate every row must satisfy)
FILTERS = {
    "country": ({"probe_cc": "UG"}, lambda r: r["probe_cc"] == "UG"),
    "network": ({"probe_asn": "AS37075"}, lambda r: r["probe_asn"] == "AS37075"),
    "domain without www": ({"domain": "instagram.com"}, lambda r: r["domain"] == "www.instagram.com"),
    "domain with www": ({"domain": "www.instagram.com"}, lambda r: r["domain"] == "www.instagram.com"),
    "url prefix": ({"url": "https://twitter.com"}, lambda r: r["input"].startswith("https://twitter.com")),
    "test": ({"test_name": "web_connectivity"}, lambda r: r["test_name"] == "web_connectivity"),
    "outcome": ({"outcome": "down"}, lambda r: r["outcome"] == "down"),
    "technique": ({"technique": "tls.reset"}, lambda r: r["technique"] == "tls.reset"),
    "layer": ({"technique": "dns"}, lambda r: r["technique"].startswith("dns.")),
    "dates": ({"since": "2026-10-05", "until": "2026-10-06"}, lambda r: r["time"].startswith("2026-10-05")),
}


@pytest.mark.parametrize("name", FILTERS)
def test_each_filter_keeps_only_matching_rows_and_counts_them(server: Running, name: str) -> None:
    params, holds = FILTERS[name]
    found = _search(server, **params, limit=500)
    rows = found["results"]
    assert rows and all(holds(r) for r in rows), name
    assert found["metadata"]["total"] == len(rows)
    everything = _search(server, limit=500, offset=0)["metadata"]["total"]
    if name == "test":  # every seeded measurement is web_connectivity: another test name matches none
        assert _search(server, test_name="dnscheck")["metadata"]["total"] == 0
    else:
        assert found["metadata"]["total"] < everything


def test_filters_combine_to_answer_where_twitter_is_blocked_in_uganda(server: Running) -> None:
    found = _search(server, probe_cc="UG", domain="twitter.com", outcome="blocked", sort="time", order="asc")
    assert found["metadata"]["total"] == 40
    assert found["results"][0]["time"] == UG_SINCE.strftime("%Y-%m-%d %H:%M:%S")
    assert {r["probe_asn"] for r in found["results"]} == {"AS20294", "AS37075"}


@pytest.mark.parametrize("sort", ["time", "country", "network", "domain", "test", "outcome", "technique",
                                  "confidence"])
def test_every_sort_key_orders_the_rows(server: Running, sort: str) -> None:
    key = {"time": "time", "country": "probe_cc", "network": "probe_asn", "domain": "domain", "test": "test_name",
           "outcome": "outcome", "technique": "technique", "confidence": "confidence"}[sort]
    for order in ("asc", "desc"):
        rows = _search(server, sort=sort, order=order, limit=500)["results"]
        values = [r[key] for r in rows if r[key] is not None]
        assert values == sorted(values, reverse=order == "desc"), (sort, order)


def test_pages_do_not_overlap_and_the_links_repeat_the_query(server: Running) -> None:
    first = _search(server, probe_cc="IR", limit=10)
    meta = first["metadata"]
    assert meta["next_url"] and "probe_cc=IR" in meta["next_url"] and "sort=time" in meta["next_url"]
    second = server.client.get(meta["next_url"]).json()
    assert not {r["uid"] for r in first["results"]} & {r["uid"] for r in second["results"]}
    assert second["metadata"]["previous_url"]
    assert meta["page_url"].startswith("/search?") and "probe_cc=IR" in meta["page_url"]


def test_downloads_hold_exactly_the_rows_of_the_query(server: Running) -> None:
    found = _search(server, probe_cc="IR", technique="dns", limit=500)
    meta = found["metadata"]
    as_csv = server.client.get(meta["csv_url"])
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["uid"] for r in rows] == [r["uid"] for r in found["results"]]
    as_json = server.client.get(meta["json_url"]).json()
    assert [r["uid"] for r in as_json["results"]] == [r["uid"] for r in found["results"]]
    assert as_json["filter"] == {"probe_cc": "IR", "technique": "dns"}


def test_a_hostile_value_in_a_download_cannot_become_a_spreadsheet_formula(server: Running) -> None:
    text = server.client.get("/api/v1/search/download", params={"url": "http://<svg", "format": "CSV"}).text
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["domain"] == XSS_HOST and not row["input"].startswith(("=", "+", "-", "@"))


@pytest.mark.parametrize("query", [
    {"outcome": "evil"}, {"technique": "dns.everything"}, {"sort": "uid; DROP TABLE measurements"},
    {"order": "sideways"}, {"probe_cc": "ug"}, {"probe_asn": "37075"}, {"domain": "../etc"}, {"limit": 0},
    {"limit": 10_000}, {"since": "last week"},
])
def test_malformed_search_parameters_are_refused(server: Running, query: dict[str, object]) -> None:
    reply = server.client.get("/api/v1/search", params=query)
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "invalid_parameter"


def test_domain_network_and_country_drill_downs(server: Running) -> None:
    domain = server.client.get("/api/v1/domains/twitter.com").json()
    uganda = next(c for c in domain["countries"] if c["probe_cc"] == "UG")
    assert uganda["first_blocked"] == "2026-10-05 08:00:00" and uganda["blocking_networks"] == 2
    assert uganda["techniques"] == ["dns.nxdomain", "tls.reset"] and uganda["latest_outcome"] == "blocked"
    assert sum(d["measurements"] for d in domain["timeline"]) == domain["measurements"]
    unknown = next(c for c in domain["countries"] if c["probe_cc"] == "ZZ")
    assert unknown["country_name"] == "unknown country" and unknown["blocked"] == 0
    network = server.client.get(f"/api/v1/networks/{IR_DNS_NETWORKS[0]}").json()
    assert [t["technique"] for t in network["techniques"]] == ["dns.bogon"]
    networks = {n["probe_asn"]: n for n in server.client.get("/api/v1/countries/IR/networks").json()["results"]}
    assert all("dns" in networks[a]["layers"] for a in IR_DNS_NETWORKS)
    assert networks[IR_HTTP_ONLY]["layers"] == ["http"]
    series = server.client.get("/api/v1/countries/UG/series").json()
    assert sum(d["blocked"] for d in series["days"]) == sum(t["blocked"] for t in series["techniques"])


def test_legal_context_from_the_shared_data_with_sources(treaty_context: Path, server: Running) -> None:
    iran = server.client.get("/api/v1/legal/IR").json()
    assert iran["unga_74_247_vote"]["value"] == "yes"
    assert [s["id"] for s in iran["unga_74_247_vote"]["sources"]] == ["UNV"]
    assert iran["budapest"]["value"] == "not_party"
    assert server.client.get("/api/v1/legal/UG").json()["un_convention_2024_signed"]["value"] == "unknown"
    assert server.client.get("/api/v1/legal/ZZ").json()["unga_74_247_vote"]["value"] == "unknown"
    votes = server.client.get("/api/v1/legal").json()["results"]
    assert len(votes) == 193


def test_the_collector_keeps_search_current(tmp_path: Path) -> None:
    with running(settings(tmp_path / "fresh.duckdb")) as s:
        from datetime import datetime
        m = variant("dns.bogon", "new.example", "IR", "AS12880", datetime(2026, 11, 2, 9))
        assert s.client.post("/api/v1/measurements", content=orjson.dumps(m), headers=auth()).status_code == 200
        rows = s.client.get("/api/v1/search", params={"domain": "new.example"}).json()["results"]
        assert len(rows) == 1 and rows[0]["technique"] == "dns.bogon" and len(rows[0]["sha256"]) == 64


def test_search_is_rebuilt_when_another_command_wrote_meanwhile(tmp_path: Path) -> None:
    from datetime import datetime
    path = tmp_path / "stale.duckdb"
    open_database(path).close()
    with open_store(path) as store:
        m = variant("tls.reset", "later.example", "UG", "AS20294", datetime(2026, 11, 3, 9))
        pipeline.ingest(store, [check_record("cli", "line 1", orjson.dumps(m))], load_default_fingerprints())
    db = open_database(path)
    try:
        with db.read() as con:
            found = explorer.search(con, explorer.SearchFilter(domain="later.example"))
    finally:
        db.close()
    assert found.total == 1 and found.rows[0]["technique"] == "tls.reset"
