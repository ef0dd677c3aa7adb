"""Hostile records (issue 10): each costs itself, never its batch, the run or the reader.

Scenario tables: a record shaped as an attacker would shape it -> what the store
must do with it.  Every case also stores good records around the bad one, so a
fix that quarantines everything would fail.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import orjson
import pytest

from netvigil.engine import pipeline
from netvigil.store.db import BATCH_ROWS, IngestSummary, open_store
from netvigil.store.sources import MAX_RECORD_BYTES, iter_records


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "store" / "netvigil.duckdb") as opened:
        yield opened


def ingest(store, fingerprints, *paths) -> IngestSummary:
    return pipeline.ingest(store, iter_records([str(p) for p in paths]), fingerprints)


def tcp(port: object, depth: object = 0) -> dict:
    return {"ip": "93.184.215.14", "port": port, "status": {"success": True, "failure": None},
            "tags": [f"depth={depth}"]}


# name -> (overrides of one measurement, the quarantine category it must get)
BAD_UIDS = {
    "integer uid": ({"measurement_uid": 12345}, "invalid measurement_uid"),
    "object uid": ({"measurement_uid": {"$ne": None}}, "invalid measurement_uid"),
    "list uid": ({"measurement_uid": ["a"]}, "invalid measurement_uid"),
    "boolean uid": ({"measurement_uid": True}, "invalid measurement_uid"),
    "empty uid": ({"measurement_uid": ""}, "invalid measurement_uid"),
}


@pytest.mark.parametrize("name", BAD_UIDS)
def test_a_non_string_uid_is_quarantined_with_a_reason(name, store, jsonl, measurement, no_fingerprints):
    overrides, category = BAD_UIDS[name]
    path = jsonl("a.jsonl", [measurement(1), measurement(2, **overrides), measurement(3)])
    summary = ingest(store, no_fingerprints, path)
    assert (summary.stored, summary.quarantined) == (2, 1)
    assert summary.by_reason == {category: 1}
    reasons = [e["reason"] for e in store.quarantine_entries()]
    assert len(reasons) == 1 and "measurement_uid" in reasons[0]


def test_a_measurement_meta_wrapper_with_a_non_string_uid_is_quarantined(store, jsonl, measurement,
                                                                         no_fingerprints):
    wrapper = {"measurement_uid": 12345, "raw_measurement": orjson.dumps(measurement(1)).decode()}
    summary = ingest(store, no_fingerprints, jsonl("a.jsonl", [wrapper, measurement(2)]))
    assert (summary.stored, summary.quarantined) == (1, 1)
    assert summary.by_reason == {"invalid measurement_uid": 1}


# name -> (port, redirect depth) as JSON text, carried by one record of the batch; the column named
OUT_OF_RANGE = {
    "port of 2^31": ((str(2 ** 31), "0"), "port"),
    "port of 2^40": ((str(2 ** 40), "0"), "port"),
    "port of -2^31 - 1": ((str(-(2 ** 31) - 1), "0"), "port"),
    "port of 2^63 - 1": ((str(2 ** 63 - 1), "0"), "port"),
    "redirect depth of 2^31": (("443", str(2 ** 31)), "depth"),
}
_PORT_MARK, _DEPTH_MARK = 987_654_321, 876_543_219


@pytest.mark.parametrize("name", OUT_OF_RANGE)
def test_an_out_of_range_number_costs_only_its_record(name, store, jsonl, measurement, no_fingerprints):
    """5,021 records with one poison record in the first batch: 5,020 stored, one quarantined."""
    good = [measurement(n) for n in range(5_021)]
    poison = measurement(99_999)
    (port, depth), column = OUT_OF_RANGE[name]
    poison["test_keys"] = {**poison["test_keys"], "tcp_connect": [tcp(_PORT_MARK, _DEPTH_MARK)]}
    text = orjson.dumps(poison).replace(str(_PORT_MARK).encode(), port.encode())
    good[7] = text.replace(str(_DEPTH_MARK).encode(), depth.encode())
    summary = ingest(store, no_fingerprints, jsonl("a.jsonl", good))
    assert summary.read == 5_021 > BATCH_ROWS
    assert (summary.stored, summary.quarantined, summary.duplicates) == (5_020, 1, 0)
    assert summary.by_reason == {"number out of range": 1}
    assert store.counts()["measurements"] == 5_020
    [entry] = store.quarantine_entries()
    assert entry["position"] == "line 8" and f".{column} = " in entry["reason"]


def test_integers_over_64_bits_are_exported_as_integers(store, jsonl, measurement, no_fingerprints, tmp_path):
    big = 2 ** 70 + 1
    original = measurement(1, x_counter=big, x_negative=-big, x_list=[big, 1.5, "12345678901234567890123"])
    raw_line = orjson.dumps({k: v for k, v in original.items() if not k.startswith("x_")})[:-1]
    raw_line += f',"x_counter":{big},"x_negative":{-big},"x_list":[{big},1.5,"12345678901234567890123"]}}'.encode()
    ingest(store, no_fingerprints, jsonl("a.jsonl", [raw_line, measurement(2)]))
    out = tmp_path / "out.jsonl"
    assert store.export_jsonl(out) == 2
    text = out.read_text()
    assert f'"x_counter":{big}' in text and f'"x_negative":{-big}' in text
    assert "e+21" not in text and "e21" not in text
    import json
    exported = [json.loads(x) for x in text.splitlines()]
    assert exported[0]["x_counter"] == big and isinstance(exported[0]["x_counter"], int)
    assert exported[0]["x_list"] == [big, 1.5, "12345678901234567890123"]
    assert exported[1] == measurement(2)


def test_export_jsonl_into_a_missing_folder_creates_it(store, jsonl, measurement, no_fingerprints, tmp_path):
    ingest(store, no_fingerprints, jsonl("a.jsonl", [measurement(1)]))
    out = tmp_path / "not" / "yet" / "there.jsonl"
    assert store.export_jsonl(out) == 1
    assert orjson.loads(out.read_bytes()) == measurement(1)


def test_a_jsonl_symlink_to_dev_zero_stops_with_a_clear_error(tmp_path):
    """/dev/zero has no newline, ever: one capped line is quarantined and reading stops."""
    link = tmp_path / "zero.jsonl"
    os.symlink("/dev/zero", link)
    items: list = []
    started = time.monotonic()
    worker = threading.Thread(target=lambda: items.extend(iter_records([str(link)], max_bytes=1 << 20)),
                              daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "reading a symlink to /dev/zero never ended"
    assert time.monotonic() - started < 20
    assert len(items) == 1
    [entry] = items
    assert entry.category == "line without end"
    assert "stopped reading this file" in entry.reason and "1,048,576" in entry.reason
    assert len(entry.data) <= 1 << 20


def test_an_oversize_line_in_a_real_file_still_lets_the_next_lines_through(tmp_path, measurement):
    """The stop applies to a line with no end in sight; a long but finite line is skipped as before."""
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"x" * (3 << 20) + b"\n" + orjson.dumps(measurement(1)) + b"\n")
    items = list(iter_records([str(path)], max_bytes=1 << 20))
    assert [type(i).__name__ for i in items] == ["Quarantined", "SourceRecord"]
    assert items[0].category == "record too large"
    assert MAX_RECORD_BYTES >= 1 << 20


def test_ingest_command_stops_on_dev_zero(tmp_path: Path, capsys) -> None:
    from netvigil.cli import main

    link = tmp_path / "zero.jsonl"
    os.symlink("/dev/zero", link)
    status: list[int] = []
    worker = threading.Thread(target=lambda: status.append(main(["--db", str(tmp_path / "d.duckdb"),
                                                                 "ingest", str(link)])), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "netvigil ingest on /dev/zero never ended"
    assert status == [1]
    assert "line without end" in capsys.readouterr().out


# raw record text -> what the JSONL export writes for it
COMPACT = {
    "plain": (b'{ "a" : [1, 2.5, "x y"] }', b'{"a":[1,2.5,"x y"]}'),
    "byte order mark": (b'\xef\xbb\xbf{"a": 1}', b'{"a":1}'),
    "integer over 64 bits": (b'{"a": 123456789012345678901234567890}', b'{"a":123456789012345678901234567890}'),
    "digits inside a string": (b'{"a": "1234567890123456789012"}', b'{"a":"1234567890123456789012"}'),
    "integer over the interpreter's digit limit": (
        b'{"a": ' + b"9" * 5000 + b', "b": "s p"}', b'{"a":' + b"9" * 5000 + b',"b":"s p"}'),
}


@pytest.mark.parametrize("name", COMPACT)
def test_compact_json_keeps_every_number_exact(name):
    from netvigil.store.db import compact_json

    raw, expected = COMPACT[name]
    assert compact_json(raw) == expected


def test_export_command_into_a_missing_folder(tmp_path: Path, jsonl, measurement) -> None:
    from netvigil.cli import main

    db = str(tmp_path / "d.duckdb")
    assert main(["--db", db, "ingest", str(jsonl("a.jsonl", [measurement(1)]))]) == 0
    out = tmp_path / "missing" / "folder" / "all.jsonl"
    assert main(["--db", db, "export", "--jsonl", str(out)]) == 0
    assert len(out.read_bytes().splitlines()) == 1
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["--db", db, "export", "--jsonl", str(blocker / "all.jsonl")]) == 2
