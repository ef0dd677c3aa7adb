"""Reading measurement files: every input ends as a record or a quarantine entry with a reason."""

from __future__ import annotations

import contextlib
import gc
import gzip
import os
import tempfile
from pathlib import Path

import orjson
import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netvigil.model.errors import BadRecord
from netvigil.store.sources import (
    Quarantined,
    SourceRecord,
    check_record,
    decode_record,
    expand_paths,
    iter_records,
)


def outcomes(path: Path | str, **kwargs) -> list[str]:
    """``record@position`` or ``category@position`` for every item read from ``path``."""
    return [f"{'record' if isinstance(i, SourceRecord) else i.label}@{i.position}"
            for i in iter_records([str(path)], **kwargs)]


def test_jsonl_lines_become_records_with_their_exact_bytes(jsonl, measurement):
    first = orjson.dumps(measurement(1), option=orjson.OPT_INDENT_2).replace(b"\n", b" ")
    path = jsonl("m.jsonl", [first, measurement(2)])
    records = list(iter_records([str(path)]))
    assert [r.position for r in records] == ["line 1", "line 2"]
    assert records[0].data == first
    assert decode_record(records[1]).input == measurement(2)["input"]


TRUNCATED = gzip.compress(b"".join(orjson.dumps({"n": i, "pad": "x" * 200}) + b"\n" for i in range(2000)))

# name -> (file name, file bytes, expected outcome of each item read)
SCENARIOS = {
    "not JSON": ("a.jsonl", b'{"a": 1}\nnot json\n', ["record@line 1", "not JSON@line 2"]),
    "invalid UTF-8": ("a.jsonl", b'{"a": "\xff"}\n', ["invalid UTF-8@line 1"]),
    "not an object": (
        "a.jsonl", b'[1, 2]\n3\n"x"\nnull\n', [f"not a JSON object@line {n}" for n in range(1, 5)]),
    "blank lines skipped": ("a.jsonl", b'\n  \n{"a": 1}\r\n\t\n', ["record@line 3"]),
    "empty jsonl": ("a.jsonl", b"", ["empty file@file"]),
    "empty json": ("a.json", b"  \n", ["empty file@file"]),
    "pretty-printed json": ("a.json", b'{\n  "a": 1,\n  "b": [1, 2]\n}\n', ["record@file"]),
    "json with BOM": ("a.json", b'\xef\xbb\xbf{"a": 1}', ["record@file"]),
    "json array": ("a.json", b'[{"a": 1}, {"b": [2, {"c": "]}"}]},\n  7 ]',
                   ["record@item 0", "record@item 1", "not a JSON object@item 2"]),
    "empty json array": ("a.json", b"[]", ["empty file@file"]),
    "json not JSON": ("a.json", b'{"a": ', ["not JSON@file"]),
    "gzip jsonl": ("a.jsonl.gz", gzip.compress(b'{"a": 1}\n{"b": 2}\n'), ["record@line 1", "record@line 2"]),
    "gzip json": ("a.json.gz", gzip.compress(b'{"a": 1}'), ["record@file"]),
    "not gzip": ("a.jsonl.gz", b'{"a": 1}\n', ["corrupt gzip@line 1"]),
    "truncated gzip": ("a.jsonl.gz", TRUNCATED[: len(TRUNCATED) // 2], None),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario(name, tmp_path):
    file_name, data, expected = SCENARIOS[name]
    path = tmp_path / file_name
    path.write_bytes(data)
    found = outcomes(path)
    if expected is None:  # truncated gzip: every complete line before the break, then one entry
        assert found[-1].startswith("truncated gzip@line ")
        assert found[:-1] == [f"record@line {n}" for n in range(1, len(found))]
        assert 0 < len(found) - 1 < 2000
    else:
        assert found == expected


def test_reasons_say_what_and_where(write_lines):
    path = write_lines("a.jsonl", [b'{"a": 1}', b"nope", b'{"a": "\xc3\x28"}'])
    reasons = [i.reason for i in iter_records([str(path)]) if isinstance(i, Quarantined)]
    assert reasons[0].startswith("not JSON: ") and "line 1 column 1" in reasons[0]  # orjson's message
    assert reasons[1].startswith("invalid UTF-8 at byte 7")


def test_truncated_gzip_reason_counts_lines(tmp_path):
    path = tmp_path / "t.jsonl.gz"
    path.write_bytes(TRUNCATED[: len(TRUNCATED) // 2])
    *records, broken = iter_records([str(path)])
    assert broken.reason.startswith(f"truncated gzip after line {len(records)}: ")


def test_array_items_keep_their_exact_bytes(tmp_path):
    items = [{"a": "x,]}\\\"["}, [1, {"b": None}], {"c": "é"}]
    data = orjson.dumps(items, option=orjson.OPT_INDENT_2)
    (tmp_path / "a.json").write_bytes(data)
    found = list(iter_records([str(tmp_path / "a.json")]))
    assert [orjson.loads(i.data) for i in found] == items
    assert all(i.data in data for i in found)


def test_oversize_line_is_quarantined_and_reading_goes_on(write_lines):
    path = write_lines("a.jsonl", [b'{"big": "' + b"x" * 5000 + b'"}', b'{"a": 1}'])
    first, second = iter_records([str(path)], max_bytes=1000)
    assert first.category == "record too large" and "5,012 bytes" in first.reason and len(first.data) == 1001
    assert isinstance(second, SourceRecord) and second.position == "line 2"


def test_oversize_document_is_quarantined(tmp_path):
    (tmp_path / "a.json").write_bytes(b'{"a": "' + b"x" * 2000 + b'"}')
    assert outcomes(tmp_path / "a.json", max_bytes=1000) == ["record too large@file"]


def test_missing_file_and_unmatched_glob_are_reported(tmp_path):
    missing, pattern = str(tmp_path / "nope.jsonl"), str(tmp_path / "*.jsonl")
    found = list(iter_records([missing, pattern]))
    assert [(q.category, q.source) for q in found] == [("unreadable file", missing), ("no match", pattern)]
    assert "No such file" in found[0].reason


def test_folders_are_searched_recursively_for_measurement_files(tmp_path):
    names = ("b/x.jsonl", "a/y.json", "a/z.json.gz", "a/deep/w.jsonl.gz", "a/notes.txt", "a/m.json.pretty")
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    found = [os.path.relpath(p, tmp_path) for p in expand_paths([str(tmp_path)])]
    assert found == ["a/y.json", "a/z.json.gz", "a/deep/w.jsonl.gz", "b/x.jsonl"]
    assert list(expand_paths([str(tmp_path / "a" / "*.json*")])) == [str(tmp_path / "a/y.json"),
                                                                     str(tmp_path / "a/z.json.gz")]
    assert list(expand_paths([str(tmp_path / "a/notes.txt")])) == [str(tmp_path / "a/notes.txt")]


# --- decode_record --------------------------------------------------------------------------


def record(obj) -> SourceRecord:
    item = check_record("test", "line 1", orjson.dumps(obj))
    assert isinstance(item, SourceRecord)
    return item


def test_decode_plain_measurement(measurement):
    m = decode_record(record(measurement(3)))
    assert (m.test_name, m.probe_cc, m.probe_asn) == ("web_connectivity", "IT", "AS137")


def test_decode_measurement_meta_with_string_and_object(measurement):
    raw = measurement(4)
    as_string = decode_record(record({"measurement_uid": "20240101.000000_IT_webconnectivity_abc",
                                      "raw_measurement": orjson.dumps(raw).decode()}))
    as_object = decode_record(record({"measurement_uid": "u2", "raw_measurement": raw}))
    assert as_string.uid == "20240101.000000_IT_webconnectivity_abc" and as_string.raw == raw
    assert as_object.uid == "u2" and as_object.input == raw["input"]


def test_decode_record_without_cached_object(measurement):
    data = orjson.dumps(measurement(5))
    assert decode_record(SourceRecord("s", "line 1", data)).uid == decode_record(record(measurement(5))).uid


@pytest.mark.parametrize("obj, reason", [
    ({"test_name": "web_connectivity"}, "missing required field(s): measurement_start_time, test_keys"),
    ({"test_name": "bogus", "measurement_start_time": "2024-01-01 00:00:00", "test_keys": None}, "unknown test_name 'bogus'"),
    ({"raw_measurement": "{nope", "measurement_uid": "x"}, "raw_measurement is not JSON"),
    ({"raw_measurement": None}, "raw_measurement is a JSON null, not an object"),
])
def test_decode_bad_records_raise_badrecord(obj, reason):
    with pytest.raises(BadRecord, match=reason.replace("(", r"\(").replace(")", r"\)")):
        decode_record(record(obj))


def test_decode_of_bytes_that_are_not_an_object_raises_badrecord():
    with pytest.raises(BadRecord, match="not JSON"):
        decode_record(SourceRecord("s", "line 1", b"{oops"))
    with pytest.raises(BadRecord, match="not an object"):
        decode_record(SourceRecord("s", "line 1", b"[1]"))


# --- streaming and properties ---------------------------------------------------------------


def test_jsonl_gz_is_streamed_not_loaded(tmp_path, measurement):
    """~150 MB of JSONL read with a small, flat memory footprint (a 2 GB dump behaves the same)."""
    body = "y" * 150_000
    payload = orjson.dumps(measurement(0, padding=body)) + b"\n"
    path = tmp_path / "big.jsonl.gz"
    with gzip.open(path, "wb", compresslevel=1) as out:
        for _ in range(1000):
            out.write(payload)
    gc.collect()
    process = psutil.Process()
    before, peak, count = process.memory_info().rss, 0, 0
    for item in iter_records([str(path)]):
        count += isinstance(item, SourceRecord)
        if count % 100 == 0:
            peak = max(peak, process.memory_info().rss)
    assert count == 1000
    assert peak - before < 60 * 1024 * 1024, f"RSS grew by {(peak - before) / 2**20:.0f} MiB"


valid_line = st.builds(lambda n: orjson.dumps({"test_name": "web_connectivity", "n": n,
                                               "measurement_start_time": "2024-01-01 00:00:00"}),
                       st.integers(0, 10**6))
odd_lines = st.sampled_from([b"{}", b"[]", b"null", b'{"raw_measurement": "{}"}', b"\xef\xbb\xbf{}"])
any_line = st.one_of(st.binary(max_size=60), valid_line, odd_lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(any_line.map(lambda b: b.replace(b"\n", b" ")), max_size=8), st.booleans())
def test_arbitrary_lines_never_crash(lines, gzipped):
    """Every non-blank line ends as exactly one record or quarantine entry; decoding never crashes."""
    data = b"".join(item + b"\n" for item in lines)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("x.jsonl.gz" if gzipped else "x.jsonl")
        path.write_bytes(gzip.compress(data) if gzipped else data)
        items = list(iter_records([str(path)]))
    expected = [n for n, item in enumerate(lines, 1) if not (item + b"\n").isspace()]
    if expected:
        assert [i.position for i in items] == [f"line {n}" for n in expected]
    else:
        assert [i.label for i in items] == ["empty file"]
    for item in items:
        if isinstance(item, SourceRecord):
            assert item.data == lines[int(item.position[5:]) - 1].rstrip(b"\r")
            with contextlib.suppress(BadRecord):  # BadRecord is a quarantine reason: an allowed ending
                decode_record(item)


text = st.text(st.characters(exclude_categories=["Cs"]))  # orjson refuses lone surrogates
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(json_values, max_size=6), st.booleans())
def test_array_items_are_sliced_exactly(items, indent):
    data = orjson.dumps(items, option=orjson.OPT_INDENT_2 if indent else 0)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.json"
        path.write_bytes(data)
        found = list(iter_records([str(path)]))
    if not items:
        assert [i.label for i in found] == ["empty file"]
        return
    assert [orjson.loads(i.data) for i in found] == items
    assert all(isinstance(i, SourceRecord) == isinstance(v, dict) for i, v in zip(found, items, strict=True))
