"""``netvigil detect --from-store``: blocking and silence found in a real DuckDB store.

Synthetic web_connectivity measurements (``netvigil.testbed.synthetic``, retargeted
to fixed countries, networks and domains) are ingested as ``netvigil ingest`` does:
one domain in Iran is measured three times an hour and blocked (TLS reset) from
a known hour for a day; Uganda is measured 24 times an hour and falls silent for
six hours while Iran is still heard.  The first shows in the anomaly rate (CUSUM),
the second in the measurement count.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest

from netvigil.engine import pipeline
from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.cli.detect import add_detect_parsers
from netvigil.detect.records import iso
from netvigil.model.verdict import Technique
from netvigil.signals.converters import MEASUREMENTS_SOURCE, VERDICTS_SOURCE
from netvigil.store.db import open_store
from netvigil.store.signals_db import open_signals_store
from netvigil.store.sources import iter_records
from netvigil.testbed.synthetic import generate

T0 = datetime(2026, 5, 1, tzinfo=UTC)
H = timedelta(hours=1)
HOURS = 72
BLOCKED = range(40, 64)  # hours during which Iran blocks the domain
SILENT = range(48, 54)   # hours during which nothing arrives from Uganda
IR_DOMAIN, IR, UG = "www.target.example", ("IR", "AS44244"), ("UG", "AS20294")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="netvigil")
    add_detect_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def template(technique: Technique) -> dict[str, Any]:
    return next(g.measurement for g in generate(200, seed=3, max_body=2_000) if g.technique is technique)


def retarget(doc: dict[str, Any], domain: str, where: tuple[str, str], when: datetime,
             n: int) -> dict[str, Any]:
    """The same measurement of another domain, from another network, at another time."""
    old = urlsplit(doc["input"]).hostname or ""
    moved = orjson.loads(orjson.dumps(doc).replace(old.encode(), domain.encode()))
    stamp = when.strftime("%Y-%m-%d %H:%M:%S")
    report_id = f"20260501T000000Z_webconnectivity_{where[0]}_n1_{n:08d}"
    return moved | {"probe_cc": where[0], "probe_asn": where[1], "measurement_start_time": stamp,
                    "test_start_time": stamp, "report_id": report_id}


def measurements() -> list[dict[str, Any]]:
    ok, blocked = template(Technique.OK), template(Technique.TLS_RESET)
    docs = []
    for hour in range(HOURS):
        start, ir = T0 + hour * H, blocked if hour in BLOCKED else ok
        docs += [retarget(ir, IR_DOMAIN, IR, start + timedelta(minutes=20 * j), len(docs) + j)
                 for j in range(3)]
        if hour not in SILENT:
            docs += [retarget(ok, "www.news.example", UG, start + timedelta(minutes=2 * j), len(docs) + j)
                     for j in range(24)]
    return docs


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("store")
    source = folder / "synthetic.jsonl"
    source.write_bytes(b"".join(orjson.dumps(m) + b"\n" for m in measurements()))
    db = folder / "netvigil.duckdb"
    with open_store(db) as s:
        summary = pipeline.ingest(s, iter_records([str(source)]), FingerprintDB.empty())
    assert summary.quarantined == 0 and summary.stored == summary.read
    return db


def test_blocking_onset_and_silence_are_found_in_the_store(store: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", "--from-store", "--db", str(store), "--store"]) == 0
    incidents = {i["entity"]: i for i in map(orjson.loads, capsys.readouterr().out.splitlines())}
    assert set(incidents) == {f"IR/AS44244/{IR_DOMAIN}", "UG"}
    blocking = incidents[f"IR/AS44244/{IR_DOMAIN}"]
    assert blocking["start"] == iso(T0 + BLOCKED.start * H) and blocking["signals"] == [VERDICTS_SOURCE]
    assert blocking["end"] == iso(T0 + BLOCKED.stop * H)
    silence = incidents["UG"]
    assert (silence["start"], silence["end"]) == (iso(T0 + SILENT.start * H), iso(T0 + SILENT.stop * H))
    assert silence["signals"] == [MEASUREMENTS_SOURCE] and silence["level"] == "critical"
    with open_signals_store(store) as signals:
        assert {i.entity for i in signals.incidents()} == set(incidents)
        assert {p.source for p in signals.points()} == {VERDICTS_SOURCE, MEASUREMENTS_SOURCE}


def test_nothing_to_detect_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", "--from-store", "--db", str(tmp_path / "absent.duckdb")]) == 1
    assert "no database" in capsys.readouterr().err and not (tmp_path / "absent.duckdb").exists()
    with open_store(tmp_path / "empty.duckdb"):
        pass
    assert main(["detect", "--from-store", "--db", str(tmp_path / "empty.duckdb")]) == 1
    assert "no analysed measurement" in capsys.readouterr().err


def test_signals_and_from_store_exclude_each_other(store: Path) -> None:
    with pytest.raises(SystemExit):
        main(["detect", "--from-store", "--signals", str(store)])
