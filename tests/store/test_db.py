"""The DuckDB store: idempotent ingest, honest counts, exact raw bytes, re-analysis, export."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import duckdb
import orjson
import pyarrow.parquet as pq
import pytest

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.store import db
from netvigil.store.db import IngestSummary, StoreError, default_db_path, open_store
from netvigil.store.sources import decode_record, iter_records


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "store" / "netvigil.duckdb") as opened:
        yield opened


def ingest(store, fingerprints, *paths) -> IngestSummary:
    return store.ingest(iter_records([str(p) for p in paths]), fingerprints)


def assert_consistent(summary: IngestSummary) -> None:
    assert summary.read == summary.stored + summary.quarantined + summary.duplicates
    assert sum(summary.by_reason.values()) == summary.quarantined


def meta(m: dict, uid: str) -> dict:
    return {"measurement_uid": uid, "raw_measurement": orjson.dumps(m).decode(), "probe_cc": m["probe_cc"]}


def truncated_gzip(lines: list[bytes]) -> bytes:
    data = gzip.compress(b"".join(item + b"\n" for item in lines))
    return data[: len(data) * 2 // 3]


# name -> (file name, builder of the file bytes from the measurement factory, stored, quarantine categories)
SCENARIOS = {
    "line that is not JSON": (
        "a.jsonl", lambda m: orjson.dumps(m(1)) + b"\n{not json\n", 1, ["not JSON"]),
    "missing required fields": (
        "a.jsonl", lambda m: orjson.dumps({"test_name": "web_connectivity"}) + b"\n",
        0, ["missing required field(s): measurement_start_time, test_keys"]),
    "unknown test_name": (
        "a.jsonl", lambda m: orjson.dumps(m(1, test_name="no_such_test")) + b"\n",
        0, ["unknown test_name 'no_such_test'"]),
    "invalid UTF-8": (
        "a.jsonl", lambda m: b'{"test_name": "\xfe"}\n' + orjson.dumps(m(2)) + b"\n", 1, ["invalid UTF-8"]),
    "truncated gzip": (
        "a.jsonl.gz", lambda m: truncated_gzip([orjson.dumps(m(n, pad="p" * 3000)) for n in range(60)]),
        None, ["truncated gzip"]),
    "empty file": ("a.jsonl", lambda m: b"", 0, ["empty file"]),
    "JSON array": ("a.json", lambda m: orjson.dumps([m(1), m(2), 3]), 2, ["not a JSON object"]),
    "measurement_meta wrapper": (
        "a.json", lambda m: orjson.dumps(meta(m(1), "20240101.000000_IT_wc_x")), 1, []),
    "pretty-printed file": ("a.json", lambda m: orjson.dumps(m(1), option=orjson.OPT_INDENT_2), 1, []),
    "analysis raises BadRecord": (
        "a.jsonl", lambda m: orjson.dumps(m(1, input=None)) + b"\n",
        0, ["web_connectivity measurement without an input URL"]),
    "invalid start date": (
        "a.jsonl", lambda m: orjson.dumps(m(1, measurement_start_time="2024-13-45 00:00:00")) + b"\n",
        0, ["measurement_start_time '2024-13-45 00:00:00' is not a valid date"]),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_ingest_scenario(name, store, tmp_path, measurement, no_fingerprints):
    file_name, build, stored, categories = SCENARIOS[name]
    path = tmp_path / file_name
    path.write_bytes(build(measurement))
    summary = ingest(store, no_fingerprints, path)
    assert_consistent(summary)
    assert sorted(summary.by_reason) == sorted(categories)
    if stored is None:  # truncated gzip: every line before the break is stored
        assert 0 < summary.stored < 60 and summary.quarantined == 1
    else:
        assert summary.stored == stored
    assert store.counts()["measurements"] == summary.stored
    assert store.counts()["quarantine"] == summary.quarantined


def test_fifty_megabyte_body_is_stored(store, tmp_path, measurement, no_fingerprints):
    big = measurement(1)
    big["test_keys"]["requests"] = [{"request": {"url": big["input"], "method": "GET"}, "failure": None,
                                     "response": {"code": 200, "headers": {}, "body": "A" * 50_000_000}}]
    path = tmp_path / "big.jsonl"
    path.write_bytes(orjson.dumps(big) + b"\n" + orjson.dumps(measurement(2)) + b"\n")
    summary = ingest(store, no_fingerprints, path)
    assert_consistent(summary)
    assert summary.stored == 2
    uid = decode_record(next(iter_records([str(path)]))).uid
    assert store.raw(uid) == orjson.dumps(big)


def test_ingesting_the_same_file_twice_adds_nothing(store, jsonl, measurement, no_fingerprints):
    path = jsonl("a.jsonl", [measurement(1), measurement(2), b"bad line", measurement(1)])
    first = ingest(store, no_fingerprints, path)
    before = store.counts()
    second = ingest(store, no_fingerprints, path)
    assert (first.stored, first.quarantined, first.duplicates) == (2, 1, 1)  # the repeated line: a duplicate
    assert (second.stored, second.quarantined, second.duplicates) == (0, 1, 3)
    assert store.counts() == before
    assert_consistent(first)
    assert_consistent(second)


def test_duplicates_across_batches(store, jsonl, measurement, no_fingerprints, monkeypatch):
    monkeypatch.setattr(db, "BATCH_ROWS", 3)
    path = jsonl("a.jsonl", [measurement(n % 4) for n in range(10)])
    seen: list[int] = []
    summary = store.ingest(iter_records([str(path)]), no_fingerprints, progress=seen.append)
    assert (summary.read, summary.stored, summary.duplicates) == (10, 4, 6)
    assert seen == [3, 3, 3, 1]


def test_analysis_exception_quarantines_the_record(store, jsonl, measurement, no_fingerprints, monkeypatch):
    real = db.analyze_measurement

    def flaky(m, fingerprints):
        if m.input.startswith("https://site2."):
            raise ZeroDivisionError("rule bug")
        return real(m, fingerprints)

    monkeypatch.setattr(db, "analyze_measurement", flaky)
    summary = ingest(store, no_fingerprints, jsonl("a.jsonl", [measurement(1), measurement(2)]))
    assert (summary.stored, summary.quarantined) == (1, 1)
    assert summary.by_reason == {"unexpected ZeroDivisionError": 1}
    [entry] = store.quarantine_entries()
    assert entry["reason"] == "unexpected ZeroDivisionError: rule bug" and entry["position"] == "line 2"


def test_raw_returns_the_exact_bytes(store, tmp_path, measurement, no_fingerprints):
    path = tmp_path / "pretty.json"
    path.write_bytes(orjson.dumps(meta(measurement(7), "uid-7"), option=orjson.OPT_INDENT_2))
    ingest(store, no_fingerprints, path)
    sha = store.show("uid-7")["stored"]["sha256"]
    assert store.raw("uid-7") == path.read_bytes()
    assert hashlib.sha256(store.raw("uid-7")).hexdigest() == sha
    with pytest.raises(KeyError):
        store.raw("no-such-uid")


def test_show_gives_summary_verdicts_and_envelope(store, jsonl, measurement, no_fingerprints):
    path = jsonl("a.jsonl", [measurement(1)])
    ingest(store, no_fingerprints, path)
    shown = store.show(decode_record(next(iter_records([str(path)]))).uid)
    assert shown["summary"]["technique"] == "dns.bogon" and shown["summary"]["outcome"] == "blocked"
    assert shown["summary"]["evidence"]["bogon"] == "10.10.34.35"
    assert [v["layer"] for v in shown["verdicts"]] == ["dns"]
    assert shown["measurement_start_time"] == "2024-01-01 00:00:01"
    assert shown["envelope"]["report_id"] == measurement(1)["report_id"]
    assert "test_keys" not in shown["envelope"]
    assert shown["stored"]["domain"] == "site1.example.org" and shown["stored"]["fingerprints_version"]
    with pytest.raises(KeyError):
        store.show("nope")


def test_stats_counts_by_country_asn_and_technique(store, jsonl, measurement, no_fingerprints):
    items = [measurement(1), measurement(2, probe_cc="IR", probe_asn="AS197207"),
             measurement(3, test_name="tor", test_keys={})]
    ingest(store, no_fingerprints, jsonl("a.jsonl", items))
    stats = store.stats()
    assert (stats["measurements"], stats["quarantined"]) == (3, 0)
    assert stats["by_outcome"] == {"blocked": 2, "unknown": 1}
    assert stats["by_country"][0] == {"key": "IT", "measurements": 2, "blocked": 1, "down": 0, "ok": 0,
                                      "unknown": 1, "tampered": 0, "unanalysed": 0}
    assert {r["key"]: r["measurements"] for r in stats["by_asn"]} == {"AS137": 2, "AS197207": 1}
    assert {r["key"]: r["measurements"] for r in stats["by_technique"]} == {"dns.bogon": 2, "unknown": 1}


def test_reanalyze_replaces_observations_and_verdicts(store, jsonl, measurement, no_fingerprints,
                                                     monkeypatch):
    monkeypatch.setattr(db, "BATCH_ROWS", 2)
    path = jsonl("a.jsonl", [measurement(n) for n in range(5)])
    ingest(store, no_fingerprints, path)
    before = store.counts()
    other = FingerprintDB.empty()
    monkeypatch.setattr(other, "version", "other-set")
    assert store.reanalyze(other) == 5
    assert store.counts() == before
    uids = [decode_record(r).uid for r in iter_records([str(path)])]
    assert {store.show(uid)["stored"]["fingerprints_version"] for uid in uids} == {"other-set"}


def test_reanalyze_failure_is_quarantined_and_counted(store, jsonl, measurement, no_fingerprints,
                                                     monkeypatch):
    ingest(store, no_fingerprints, jsonl("a.jsonl", [measurement(1), measurement(2)]))
    monkeypatch.setattr(db, "analyze_measurement", lambda m, fp: 1 / 0)
    assert store.reanalyze(no_fingerprints) == 0
    assert store.counts()["verdicts"] == 0
    assert {e["category"] for e in store.quarantine_entries()} == {"unexpected ZeroDivisionError"}


def test_export_parquet_reads_back_with_the_same_row_counts(store, jsonl, measurement, no_fingerprints,
                                                           tmp_path):
    ingest(store, no_fingerprints, jsonl("a.jsonl", [measurement(1), measurement(2), b"\xff"]))
    written = store.export_parquet(tmp_path / "out")
    assert written == store.counts()
    for table, rows in written.items():
        assert pq.read_table(tmp_path / "out" / f"{table}.parquet").num_rows == rows
    raw = pq.read_table(tmp_path / "out" / "measurements.parquet").column("raw").to_pylist()
    assert sorted(orjson.loads(r)["input"] for r in raw) == [measurement(1)["input"], measurement(2)["input"]]
    assert pq.read_table(tmp_path / "out" / "quarantine.parquet").column("raw").to_pylist() == [b"\xff"]


def test_schema_version_is_checked(tmp_path):
    path = tmp_path / "x.duckdb"
    open_store(path).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE schema_version SET version = 99")
    con.close()
    with pytest.raises(StoreError, match="schema version 99"):
        open_store(path)


def test_read_only_open_refuses_a_missing_or_foreign_database(tmp_path):
    with pytest.raises(StoreError, match="no netvigil database"):
        open_store(tmp_path / "missing.duckdb", read_only=True)
    assert not (tmp_path / "missing.duckdb").exists()
    con = duckdb.connect(str(tmp_path / "other.duckdb"))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="not a netvigil database"):
        open_store(tmp_path / "other.duckdb", read_only=True)
    with pytest.raises(StoreError, match="cannot open"):
        open_store(Path(__file__), read_only=True)  # not a DuckDB file


def test_default_db_path(monkeypatch, tmp_path):
    monkeypatch.delenv("NETVIGIL_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "netvigil" / "netvigil.duckdb"
    monkeypatch.setenv("NETVIGIL_DB", str(tmp_path / "elsewhere.duckdb"))
    assert default_db_path() == tmp_path / "elsewhere.duckdb"


# --- real measurements ----------------------------------------------------------------------

# Files in the fastpath test data that are not measurements; every one of their items is quarantined
# (fingerprint lists, and fastpath database rows without test_keys).
NOT_MEASUREMENTS = {"fingerprints_dns.json", "fingerprints_http.json", "detector_query_ww_BR_2018.json"}


def test_real_measurements_ingest(store, shared_data, real_fingerprints, tmp_path):
    fastpath = sorted((shared_data / "ooni-backend/fastpath/fastpath/tests/data").glob("*.json"))
    manual = sorted((shared_data / "ooni-probe-cli/internal/minipipeline/testdata/webconnectivity/manual")
                    .glob("*/measurement.json"))
    assert len(fastpath) >= 40 and len(manual) >= 5
    summary = ingest(store, real_fingerprints, *fastpath, *manual)
    assert_consistent(summary)
    assert {Path(q["source"]).name for q in store.quarantine_entries()} == NOT_MEASUREMENTS
    store.export_parquet(tmp_path / "out")
    sources = pq.read_table(tmp_path / "out" / "measurements.parquet").column("source").to_pylist()
    stored = {Path(s).name for s in sources}
    expected = {p.name for p in fastpath} | {"measurement.json"}
    # report1blocked.json is an edited copy of report1.json (same report, input and times): the
    # content-derived uid keeps it apart.  report2blocked.json is byte-identical to report2.json: a duplicate.
    assert "report1blocked.json" in stored
    assert stored | NOT_MEASUREMENTS | {"report2blocked.json"} == expected
    assert not stored & NOT_MEASUREMENTS
    assert sum("/manual/" in s for s in sources) == len(manual)
    summaries = pq.read_table(tmp_path / "out" / "verdicts.parquet").column("is_summary").to_pylist()
    assert sum(summaries) == summary.stored  # every stored measurement has its summary verdict


def test_jsonl_export_round_trips_every_field(store, jsonl, measurement, no_fingerprints, tmp_path):
    """Fields netvigil does not model (and pretty-printed input) come back unchanged."""
    originals = [measurement(1, x_unmodelled={"nested": [1, "two", None]}), measurement(2, annotations={"a": "b"})]
    pretty = tmp_path / "pretty.json"
    pretty.write_bytes(orjson.dumps(originals[1], option=orjson.OPT_INDENT_2))
    ingest(store, no_fingerprints, jsonl("a.jsonl", originals[:1]), pretty)
    assert store.export_jsonl(tmp_path / "out.jsonl") == 2
    exported = [orjson.loads(x) for x in (tmp_path / "out.jsonl").read_bytes().splitlines()]
    assert sorted(exported, key=lambda m: m["input"]) == sorted(originals, key=lambda m: m["input"])
