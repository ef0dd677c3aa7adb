"""fetch-ooni against a real S3-compatible server (moto in server mode) on 127.0.0.1.

The bucket holds files the tests generate in both of OONI's layouts: daily JSONL cans
(before 2020-10-21) and hourly JSONL cans and postcans (after).  No test reaches the
internet: every client is pointed at the loopback endpoint.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import boto3
import orjson
import pytest
from moto.server import ThreadedMotoServer

from netvigil.cli import main
from netvigil.engine import pipeline
from netvigil.engine.fetch import ENDPOINT_ENV, fetch_files, is_complete, list_wanted, s3_client
from netvigil.engine.layout import OONI_BUCKET, OONI_REGION, Wanted
from netvigil.engine.postcan import iter_inputs
from netvigil.store.db import open_store
from netvigil.store.sources import SourceRecord
from netvigil.testbed.synthetic import generate


def _lines(n: int, seed: int, cc: str = "IR") -> list[bytes]:
    out = []
    for g in generate(n, seed=seed, min_body=200, max_body=2_000):
        m = {**g.measurement, "probe_cc": cc}
        out.append(orjson.dumps(m))
    return out


def _can(lines: list[bytes]) -> bytes:
    return gzip.compress(b"\n".join(lines) + b"\n")


def _postcan(lines: list[bytes], stem: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for i, line in enumerate(lines):
            data = orjson.dumps({"format": "json", "content": orjson.loads(line)})
            info = tarfile.TarInfo(f"{stem}/{stem}_{i:04x}.post")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


# key -> content: what the bucket holds; EXPECTED_KEYS is what an IR web_connectivity fetch takes.
OLD_DAY_1 = _lines(4, seed=1)
OLD_DAY_2 = _lines(3, seed=2)
NEW_HOUR_15 = _lines(5, seed=3)
NEW_HOUR_11 = _lines(2, seed=4)
OBJECTS = {
    "jsonl/webconnectivity/IR/20191110/00/20191110_IR_webconnectivity.l.0.jsonl.gz": _can(OLD_DAY_1),
    "jsonl/webconnectivity/IR/20191111/00/20191111_IR_webconnectivity.l.0.jsonl.gz": _can(OLD_DAY_2),
    "jsonl/webconnectivity/IT/20191110/00/20191110_IT_webconnectivity.l.0.jsonl.gz": _can(_lines(2, 5, "IT")),
    "jsonl/telegram/IR/20191110/00/20191110_IR_telegram.l.0.jsonl.gz": _can(_lines(1, 6)),
    "raw/20210817/15/IR/webconnectivity/2021081715_IR_webconnectivity.n0.0.jsonl.gz": _can(NEW_HOUR_15),
    # an hour with both forms: the postcan repeats the can and is not fetched
    "raw/20210817/15/IR/webconnectivity/2021081715_IR_webconnectivity.n0.0.tar.gz":
        _postcan(NEW_HOUR_15, "2021081715_IR_webconnectivity"),
    # an hour with a postcan only
    "raw/20210817/11/IR/webconnectivity/2021081711_IR_webconnectivity.n0.0.tar.gz":
        _postcan(NEW_HOUR_11, "2021081711_IR_webconnectivity"),
    "raw/20210818/02/IR/webconnectivity/2021081802_IR_webconnectivity.n0.0.jsonl.gz": _can(_lines(1, 7)),
}
OLD_KEYS = sorted(k for k in OBJECTS if k.startswith("jsonl/webconnectivity/IR/"))
NEW_KEYS = [
    "raw/20210817/11/IR/webconnectivity/2021081711_IR_webconnectivity.n0.0.tar.gz",
    "raw/20210817/15/IR/webconnectivity/2021081715_IR_webconnectivity.n0.0.jsonl.gz",
]


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    admin = boto3.client("s3", endpoint_url=url, region_name=OONI_REGION,
                         aws_access_key_id="testing", aws_secret_access_key="testing")
    admin.create_bucket(Bucket=OONI_BUCKET, CreateBucketConfiguration={"LocationConstraint": OONI_REGION})
    for key, body in OBJECTS.items():
        admin.put_object(Bucket=OONI_BUCKET, Key=key, Body=body, ACL="public-read")  # as OONI's bucket
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _no_cloud(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials and no instance-metadata lookups: the fetch must work anonymously."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", ENDPOINT_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


SCENARIOS = {
    "daily JSONL cans before 2020-10-21": (date(2019, 11, 10), date(2019, 11, 11), OLD_KEYS),
    "hourly cans, postcan only where no can": (date(2021, 8, 17), date(2021, 8, 17), NEW_KEYS),
    "a day without files": (date(2019, 11, 12), date(2019, 11, 12), []),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_lists_the_layout_of_each_day(endpoint: str, name: str) -> None:
    since, until, keys = SCENARIOS[name]
    files = list_wanted(s3_client(endpoint), Wanted("ir", "web_connectivity", since, until))
    assert [f.key for f in files] == keys
    assert [f.size for f in files] == [len(OBJECTS[k]) for k in keys]


def test_fetch_downloads_exact_bytes_then_resumes(endpoint: str, tmp_path: Path) -> None:
    client = s3_client(endpoint)
    files = list_wanted(client, Wanted("IR", "web_connectivity", date(2021, 8, 17), date(2021, 8, 17)))
    seen: list[int] = []
    first = list(fetch_files(client, files, tmp_path, progress=seen.append))
    assert [f.downloaded for f in first] == [True, True]
    assert sum(seen) == sum(len(OBJECTS[k]) for k in NEW_KEYS)
    for key in NEW_KEYS:
        assert (tmp_path / key).read_bytes() == OBJECTS[key]
    assert not list(tmp_path.rglob("*.part"))

    again = list(fetch_files(client, files, tmp_path))
    assert [f.downloaded for f in again] == [False, False]

    # same size, one byte changed: the hash check refetches it; a missing sidecar does too
    damaged = tmp_path / NEW_KEYS[0]
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    (tmp_path / (NEW_KEYS[1] + ".sha256")).unlink()
    assert not is_complete(damaged, files[0])
    third = list(fetch_files(client, files, tmp_path))
    assert [f.downloaded for f in third] == [True, True]
    assert damaged.read_bytes() == OBJECTS[NEW_KEYS[0]]


def test_postcan_members_become_records_with_the_cans_uids(endpoint: str, tmp_path: Path) -> None:
    postcan = tmp_path / "p.tar.gz"
    postcan.write_bytes(OBJECTS["raw/20210817/15/IR/webconnectivity/2021081715_IR_webconnectivity.n0.0.tar.gz"])
    can = tmp_path / "c.jsonl.gz"
    can.write_bytes(OBJECTS["raw/20210817/15/IR/webconnectivity/2021081715_IR_webconnectivity.n0.0.jsonl.gz"])
    members = list(iter_inputs([str(postcan)]))
    assert all(isinstance(r, SourceRecord) for r in members) and len(members) == len(NEW_HOUR_15)
    assert members[0].position.startswith("member 2021081715_IR_webconnectivity/")
    with open_store(tmp_path / "s.duckdb") as store:
        from netvigil.store.reference_data import load_default_fingerprints

        fps = load_default_fingerprints()
        first = pipeline.ingest(store, iter_inputs([str(can)]), fps)
        second = pipeline.ingest(store, iter_inputs([str(postcan)]), fps)
    assert (first.stored, second.stored, second.duplicates) == (5, 0, 5)


def test_a_truncated_postcan_is_quarantined_not_fatal(tmp_path: Path) -> None:
    whole = _postcan(_lines(3, seed=9), "x")
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    items = list(iter_inputs([str(cut)]))
    assert items and items[-1].category == "corrupt postcan"


def test_cli_fetch_and_ingest_streams_into_the_store(endpoint: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(ENDPOINT_ENV, endpoint)  # the endpoint from the environment, not the option
    db = tmp_path / "nv.duckdb"
    argv = ["fetch-ooni", "--country", "IR", "--test", "web_connectivity", "--since", "2019-11-10",
            "--until", "2019-11-11", "--into", str(tmp_path / "ooni"), "--ingest", "--db", str(db)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "2 downloaded, 0 already complete" in out
    assert "read 7  stored 7  quarantined 0  duplicates 0" in out
    with open_store(db, read_only=True) as store:
        assert store.counts()["measurements"] == len(OLD_DAY_1) + len(OLD_DAY_2)
        sources = {row["source"] for row in store.quarantine_entries()} | {
            store.show(uid)["stored"]["source"] for uid in _uids(store)}
    assert all(s.startswith(str(tmp_path / "ooni" / "jsonl" / "webconnectivity" / "IR")) for s in sources)

    assert main(argv) == 0  # resumed: nothing downloaded again, everything already stored
    out = capsys.readouterr().out
    assert "0 downloaded, 2 already complete" in out and "stored 0" in out and "duplicates 7" in out


def test_cli_rejects_a_bad_country(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    argv = ["fetch-ooni", "--country", "Iran", "--since", "2019-11-10", "--until", "2019-11-11",
            "--endpoint-url", "http://127.0.0.1:9", "--into", str(tmp_path)]
    assert main(argv) == 2
    assert "2-letter" in capsys.readouterr().err


def _uids(store) -> list[str]:
    return [row[0] for row in store._con.execute("SELECT uid FROM measurements").fetchall()]
