"""Non-web tests through the whole path: real fixtures into a real DuckDB, then stats, CLI, API, dashboard."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import orjson
import pytest

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.cli.main import main
from netvigil.engine import pipeline
from netvigil.store.db import open_store
from netvigil.store.reference_data import shared_data_dir
from netvigil.store.sources import check_record

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))  # --import-mode=importlib does not add it
from observatory_helpers import running, settings  # noqa: E402

FASTPATH = shared_data_dir() / "ooni-backend/fastpath/fastpath/tests/data"
pytestmark = pytest.mark.skipif(not FASTPATH.is_dir(), reason="shared OONI fixtures absent")


def _non_web_fixtures() -> list[tuple[str, bytes]]:
    out = []
    for path in sorted(FASTPATH.glob("*.json")):
        raw = json.loads(path.read_text())
        if isinstance(raw, dict) and "test_keys" in raw and raw.get("test_name") != "web_connectivity":
            out.append((path.name, orjson.dumps(raw)))
    return out


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("nettests") / "netvigil.duckdb"
    records = [check_record("fastpath", name, data) for name, data in _non_web_fixtures()]
    with open_store(path) as store:
        summary = pipeline.ingest(store, records, FingerprintDB.empty())
    assert (summary.stored, summary.quarantined) == (len(records), 0), summary.by_reason
    return path


def test_stats_break_down_by_test(db):
    with open_store(db, read_only=True) as store:
        stats = store.stats()
    by_test = {r["key"]: r for r in stats["by_test"]}
    assert by_test["vanilla_tor"]["blocked"] == 1 and by_test["vanilla_tor"]["ok"] == 1
    assert by_test["http_invalid_request_line"]["tampered"] == 2
    assert by_test["signal"]["ok"] == 3 and by_test["signal"]["unanalysed"] == 0
    assert stats["by_outcome"]["blocked"] == 1 and stats["by_outcome"]["tampered"] == 2


def test_cli_stats_prints_the_test_table(db, capsys):
    assert main(["--db", str(db), "stats"]) == 0
    out = capsys.readouterr().out
    assert "by test" in out and "whatsapp" in out and "tampered" in out  # long names are cut at 80 columns


def test_api_filters_and_aggregates_by_test_and_the_page_shows_the_verdict(db):
    with running(settings(db)) as api:
        rows = api.client.get("/api/v1/measurements", params={"test_name": "http_invalid_request_line"}).json()
        assert [(r["outcome"], r["technique"], r["anomaly"], r["failure"]) for r in rows["results"]] == [
            ("tampered", "http.middlebox", True, False)] * 2
        tampered = api.client.get("/api/v1/measurements", params={"outcome": "tampered"}).json()["results"]
        assert {r["test_name"] for r in tampered} == {"http_invalid_request_line"}
        agg = api.client.get("/api/v1/aggregation", params={"axis_x": "test_name"}).json()["result"]
        counts = {r["test_name"]: (r["anomaly_count"], r["measurement_count"]) for r in agg}
        assert counts["vanilla_tor"] == (1, 2) and counts["http_invalid_request_line"] == (2, 2)
        assert counts["signal"] == (0, 3)
        uid = next(r["uid"] for r in api.client.get("/api/v1/measurements", params={"test_name": "vanilla_tor",
                                                                                     "outcome": "blocked"}).json()["results"])
        page = api.client.get(f"/measurement/{uid}")
        assert page.status_code == 200 and "tunnel.no_relay_reached" in page.text
