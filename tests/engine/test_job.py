"""Parallel jobs: the local process pool and a real dask.distributed LocalCluster (2 worker processes).

The same inputs — good files, a repeated file, a corrupt gzip, a bad line, a postcan —
go through both engines and through the single-process DuckDB ingest; the Parquet rows
must be identical between engines, the verdicts identical to the store's, and the counts
must obey read = stored + quarantined + duplicates over the whole job.
"""

from __future__ import annotations

import glob
import gzip
import io
import os
import shutil
import tarfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from netvigil.api.settings import Settings
from netvigil.cli import main
from netvigil.engine import pipeline
from netvigil.engine.job import JobError, run_job
from netvigil.engine.tasks import DATA_TABLES, ORDER, QUARANTINE
from netvigil.store.db import TABLES, open_store
from netvigil.store.parquet import dataset_glob, link_dataset
from netvigil.store.reference_data import load_default_fingerprints
from netvigil.store.sources import iter_records
from netvigil.testbed.synthetic import write_jsonl
from netvigil.web.app import create_app

NOW = datetime(2026, 12, 1, 12, 0, 0)
TIMEOUT = 120  # seconds a cluster may take to start


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      timeout=TIMEOUT) as local:
        yield local.scheduler_address


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five good files (one of them twice), one with a bad line, a cut gzip, a postcan, an empty file."""
    folder = tmp_path_factory.mktemp("inputs")
    for i in range(4):
        write_jsonl(str(folder / f"good{i}.jsonl"), 40, seed=10 + i)
    shutil.copy(folder / "good0.jsonl", folder / "good0-again.jsonl")
    lines = (folder / "good1.jsonl").read_bytes().splitlines()
    (folder / "badline.jsonl").write_bytes(b"\n".join([lines[0], b'{"not": "closed"', lines[1]]) + b"\n")
    whole = gzip.compress((folder / "good2.jsonl").read_bytes())
    (folder / "cut.jsonl.gz").write_bytes(whole[: len(whole) // 3])
    (folder / "can.tar.gz").write_bytes(_postcan((folder / "good3.jsonl").read_bytes().splitlines()[:5]))
    (folder / "empty.jsonl").write_bytes(b"")
    return folder


def _postcan(lines: list[bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for i, line in enumerate(lines):
            data = orjson.dumps({"format": "json", "content": orjson.loads(line)})
            info = tarfile.TarInfo(f"can/m{i}.post")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        bad = b"not json at all"
        info = tarfile.TarInfo("can/bad.post")
        info.size = len(bad)
        tar.addfile(info, io.BytesIO(bad))
    return buf.getvalue()


@pytest.fixture(scope="module")
def local_out(inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("local") / "ds"
    return out, run_job([str(inputs)], out, engine="local", workers=2, now=NOW)


@pytest.fixture(scope="module")
def dask_out(inputs: Path, cluster: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("dask") / "ds"
    return out, run_job([str(inputs)], out, engine="dask", scheduler=cluster, now=NOW)


def _rows(dataset: Path, table: str) -> list[tuple]:
    """Every row of one table, in a canonical order (files and row groups may differ)."""
    rows = []
    for path in sorted(glob.glob(dataset_glob(dataset, table))):
        rows += [tuple(sorted(r.items())) for r in pq.read_table(path).to_pylist()]
    return sorted(rows, key=repr)


def test_engines_give_identical_rows(local_out, dask_out) -> None:
    (local, local_summary), (dask, dask_summary) = local_out, dask_out
    assert local_summary.as_dict() | {"seconds": 0} == dask_summary.as_dict() | {"seconds": 0}
    for table in (*DATA_TABLES, QUARANTINE):
        ours, theirs = _rows(local, table), _rows(dask, table)
        assert ours == theirs, table
        assert ours, f"{table} is empty"


def test_counts_over_the_whole_job(local_out) -> None:
    _, s = local_out
    assert s.read == s.stored + s.quarantined + s.duplicates
    # 4 x 40 good + 40 again + 2 good lines + 5 postcan members; the cut gzip gives what it could
    assert s.duplicates >= 40 + 2 + 5
    assert s.stored == 160  # every distinct measurement exactly once
    assert s.by_reason["not JSON"] == 2  # the bad line and the bad postcan member
    assert s.by_reason["truncated gzip"] == 1 and s.by_reason["empty file"] == 1
    assert s.files == 9 and s.quarantined == 4


def test_quarantine_says_which_file_and_where(local_out) -> None:
    out, _ = local_out
    entries = {(Path(r["source"]).name, r["position"], r["category"]) for r in
               pq.read_table(next((out / QUARANTINE).glob("*.parquet")).parent).to_pylist()}
    assert ("badline.jsonl", "line 2", "not JSON") in entries
    assert ("can.tar.gz", "member can/bad.post", "not JSON") in entries
    assert any(name == "cut.jsonl.gz" and cat == "truncated gzip" for name, _, cat in entries)


def test_partitions_are_by_day_and_country(local_out) -> None:
    out, _ = local_out
    for path in (out / "measurements").glob("*/*/*.parquet"):
        day, cc = path.parent.parent.name.removeprefix("day="), path.parent.name.removeprefix("cc=")
        table = pq.read_table(path, columns=["measurement_start_time", "probe_cc", ORDER])
        assert {t.strftime("%Y-%m-%d") for t in table["measurement_start_time"].to_pylist()} == {day}
        assert set(table["probe_cc"].to_pylist()) == {cc}


def test_same_verdicts_as_the_duckdb_ingest(local_out, inputs: Path, tmp_path: Path) -> None:
    out, _ = local_out
    with open_store(tmp_path / "ref.duckdb") as store:
        summary = pipeline.ingest(store, iter_records(sorted(str(p) for p in inputs.glob("*.json*"))),
                               load_default_fingerprints())
        ref = store._con.execute("SELECT uid, idx, layer, technique, outcome, confidence, rule, evidence "
                                 "FROM verdicts ORDER BY uid, idx").fetchall()
    assert summary.stored == 160
    link = link_dataset(out, tmp_path / "link.duckdb")
    with open_store(link, read_only=True) as linked:
        got = linked._con.execute("SELECT uid, idx, layer, technique, outcome, confidence, rule, evidence "
                                  "FROM verdicts ORDER BY uid, idx").fetchall()
        assert linked.counts()["measurements"] == 160
        uid = got[0][0]
        assert linked.show(uid)["uid"] == uid  # raw is read back from Parquet and decompressed
    assert got == ref


def test_the_api_queries_the_parquet(local_out, tmp_path: Path) -> None:
    out, _ = local_out
    link = link_dataset(out, tmp_path / "api.duckdb")
    with TestClient(create_app(Settings(db_path=link))) as client:
        assert client.get("/api/v1/health").json()["measurements"] == 160
        page = client.get("/api/v1/measurements", params={"limit": 5}).json()
        assert len(page["results"]) == 5


def test_a_job_refuses_a_folder_that_is_not_empty(inputs: Path, tmp_path: Path) -> None:
    (tmp_path / "x").write_text("keep me")
    with pytest.raises(JobError, match="not an empty folder"):
        run_job([str(inputs)], tmp_path)


def test_cli_ingest_and_analyze_on_dask(inputs: Path, cluster: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", str(inputs), "--engine", "dask", "--scheduler", cluster,
                 "--parquet", str(tmp_path / "ingested")]) == 0
    assert "stored 160" in capsys.readouterr().out
    assert main(["analyze", str(inputs / "good0.jsonl"), "--engine", "dask", "--scheduler", cluster,
                 "--parquet", str(tmp_path / "analysed")]) == 0
    assert "stored 40" in capsys.readouterr().out
    raws = pq.read_table(tmp_path / "analysed" / "measurements", columns=["raw"])["raw"].to_pylist()
    assert raws and all(r is None for r in raws)  # analyze keeps verdicts, not the raw bytes
    assert main(["stats", "--db", str(tmp_path / "ingested" / "netvigil.duckdb")]) == 0
    assert "160 measurements" in capsys.readouterr().out


def test_store_tables_all_linked(local_out, tmp_path: Path) -> None:
    out, _ = local_out
    with open_store(link_dataset(out, tmp_path / "l.duckdb"), read_only=True) as linked:
        assert set(linked.counts()) == set(TABLES)


def test_a_task_that_dies_costs_its_file_not_the_job(tmp_path: Path) -> None:
    """A worker process that exits mid-task (as an out-of-memory kill would) is reported, not fatal."""
    from netvigil.engine.job import _executor
    from netvigil.engine.tasks import task_failed

    with _executor("local", 1, None) as submit:
        outcomes = list(submit(os._exit, [(3,)]))
    assert len(outcomes) == 1 and isinstance(outcomes[0][1], BaseException)
    result = task_failed(7, "big.jsonl.gz", str(tmp_path), outcomes[0][1])
    assert (result.read, result.quarantined, result.by_reason["task failed"]) == (1, 1, 1)
    entry = pq.read_table(tmp_path / QUARANTINE).to_pylist()[0]
    assert (entry["source"], entry["position"], entry["category"]) == ("big.jsonl.gz", "file", "task failed")
    assert not list(tmp_path.rglob("*.tmp"))


def test_ingest_engine_into_the_duckdb_store_matches_the_plain_ingest(inputs: Path, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`ingest --engine local` without --parquet: all cores, then the store holds what a plain ingest would."""
    parallel, plain = tmp_path / "parallel.duckdb", tmp_path / "plain.duckdb"
    assert main(["ingest", str(inputs), "--engine", "local", "--workers", "2", "--db", str(parallel)]) == 0
    first = capsys.readouterr().out
    assert main(["ingest", str(inputs), "--db", str(plain)]) == 0
    assert "stored 160" in first and "stored 160" in capsys.readouterr().out
    query = "SELECT uid, idx, technique, outcome, rule, evidence FROM verdicts ORDER BY uid, idx"
    with open_store(parallel, read_only=True) as a, open_store(plain, read_only=True) as b:
        assert a._con.execute(query).fetchall() == b._con.execute(query).fetchall()
        assert a.counts() == b.counts()
        uid = a._con.execute("SELECT min(uid) FROM measurements").fetchall()[0][0]
        assert a.raw(uid) == b.raw(uid)
    assert main(["ingest", str(inputs), "--engine", "local", "--db", str(parallel)]) == 0
    again = capsys.readouterr().out
    assert "stored 0" in again and "duplicates 223" in again  # everything already held
