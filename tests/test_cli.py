"""The command line, run as users and other tools run it: ``python -m netvigil ...`` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from netvigil.cli import main
from netvigil.store.sources import decode_record, iter_records

REPO = Path(__file__).resolve().parents[1]
VERDICT_KEYS = {"uid", "input", "probe_cc", "probe_asn", "measurement_start_time", "test_name", "summary",
                "verdicts"}
VERDICT_DICT_KEYS = {"layer", "technique", "outcome", "confidence", "rule", "hostname", "depth", "evidence"}


def netvigil(*args: str, db: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NETVIGIL_FINGERPRINTS_DIR"}
    env["PYTHONPATH"] = str(REPO / "src")
    if db is not None:
        env["NETVIGIL_DB"] = str(db)
    return subprocess.run([sys.executable, "-m", "netvigil", *args], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=120)


@pytest.fixture
def stored(tmp_path, jsonl, measurement) -> tuple[Path, str]:
    """A database holding two measurements and one quarantined line; returns (db, uid of the first).

    No fingerprints (an empty folder), so verdicts do not depend on the shared data.
    """
    path = jsonl("in/a.jsonl", [measurement(1), measurement(2), b"{broken"])
    db = tmp_path / "cli.duckdb"
    no_fingerprints = tmp_path / "no-fingerprints"
    no_fingerprints.mkdir()
    result = netvigil("--db", str(db), "--fingerprints", str(no_fingerprints), "ingest", str(path.parent))
    assert result.returncode == 0, result.stderr
    assert "read 3  stored 2  quarantined 1  duplicates 0" in result.stdout
    assert "not JSON" in result.stdout  # top quarantine reasons
    return db, decode_record(next(iter_records([str(path)]))).uid


def test_ingest_twice_reports_duplicates(stored):
    db, _ = stored
    again = netvigil("ingest", str(db.parent / "in" / "a.jsonl"), db=db)
    assert again.returncode == 0
    assert "read 3  stored 0  quarantined 1  duplicates 2" in again.stdout


def test_ingest_with_nothing_readable_exits_non_zero(tmp_path):
    result = netvigil("--db", str(tmp_path / "x.duckdb"), "ingest", str(tmp_path / "missing.jsonl"))
    assert result.returncode == 1
    assert "unreadable file" in result.stdout and "no measurement could be read" in result.stderr


def test_show_puts_the_summary_sentence_first(stored):
    db, uid = stored
    result = netvigil("show", uid, "--db", str(db))  # global options also work after the command
    assert result.returncode == 0, result.stderr
    first, *rest = result.stdout.splitlines()
    # 10.10.34.35 is Iran's DNS blocking address: netvigil's built-in fingerprints confirm it.
    assert first.startswith("BLOCKED — dns.bogon (confidence 1.00, rule dns.fingerprint@1): answer 10.10.34.35")
    text = "\n".join(rest)
    assert "layer verdicts:" in text and "reference_addrs: 93.184.215.14" in text
    assert "envelope:" in text and "report_id: " in text and "sha256: " in text


def test_show_json_unknown_uid_and_missing_database(stored, tmp_path, capsys):
    db, uid = stored
    record = orjson.loads(netvigil("show", uid, "--json", db=db).stdout)
    assert record["uid"] == uid and record["summary"]["outcome"] == "blocked"
    missing = netvigil("show", "no-such-uid", db=db)
    assert missing.returncode == 1 and "no stored measurement" in missing.stderr
    assert main(["--db", str(tmp_path / "typo.duckdb"), "stats"]) == 1
    assert "no netvigil database at" in capsys.readouterr().err


def test_show_prints_data_verbatim(tmp_path, jsonl, measurement, capsys):
    """Measurement text is data, never console markup or emoji codes."""
    odd = "https://site9.example.org/[/bold]:smile:[red]"
    path = jsonl("odd.jsonl", [measurement(9, input=odd)])
    assert main(["--db", str(tmp_path / "odd.duckdb"), "ingest", str(path)]) == 0
    uid = decode_record(next(iter_records([str(path)]))).uid
    assert main(["--db", str(tmp_path / "odd.duckdb"), "show", uid]) == 0
    assert f"input: {odd}" in capsys.readouterr().out


def test_stats_prints_tables(stored):
    db, _ = stored
    result = netvigil("stats", db=db)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("2 measurements, 1 quarantined records")
    for title in ("by country", "by ASN", "by technique", "dns.bogon", "AS137"):
        assert title in result.stdout


def test_quarantine_analyze_and_export_in_process(stored, tmp_path, capsys):
    db, _ = stored
    assert main(["--db", str(db), "quarantine"]) == 0
    assert "line 3" in capsys.readouterr().out
    assert main(["--db", str(db), "analyze"]) == 0
    assert "re-analysed 2 of 2 measurements" in capsys.readouterr().out
    assert main(["--db", str(db), "export", "--parquet", str(tmp_path / "pq")]) == 0
    assert pq.read_table(tmp_path / "pq" / "measurements.parquet").num_rows == 2
    assert pq.read_table(tmp_path / "pq" / "quarantine.parquet").num_rows == 1


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["stats", "--json"])
    assert exit_.value.code == 2


def test_verdicts_prints_json_lines_and_quarantines_to_stderr(tmp_path, jsonl, measurement):
    path = jsonl("a.jsonl", [measurement(1), {"test_name": "nope"}, measurement(2)])
    result = netvigil("verdicts", str(path), "--format", "jsonl", db=tmp_path / "unused.duckdb")
    assert result.returncode == 0, result.stderr
    docs = [orjson.loads(x) for x in result.stdout.splitlines()]
    assert [d["input"] for d in docs] == [measurement(1)["input"], measurement(2)["input"]]
    assert set(docs[0]) == VERDICT_KEYS and set(docs[0]["summary"]) == VERDICT_DICT_KEYS
    [problem] = [orjson.loads(x) for x in result.stderr.splitlines()]
    assert problem == {"quarantined": True, "source": str(path), "position": "line 2",
                       "reason": "missing required field(s): measurement_start_time, test_keys"}
    assert not (tmp_path / "unused.duckdb").exists()  # verdicts never stores


def test_verdicts_on_the_generated_qa_measurements(shared_data):
    files = sorted((shared_data / "ooni-probe-cli/internal/minipipeline/testdata/webconnectivity/generated")
                   .glob("*/measurement.json"))
    assert len(files) == 50
    result = netvigil("verdicts", *map(str, files), "--fingerprints", str(shared_data))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    docs = [orjson.loads(x) for x in result.stdout.splitlines()]
    assert len(docs) == 50
    for doc in docs:
        assert set(doc) == VERDICT_KEYS and doc["test_name"] == "web_connectivity"
        assert all(set(v) == VERDICT_DICT_KEYS for v in [doc["summary"], *doc["verdicts"]])
    assert {d["summary"]["outcome"] for d in docs} >= {"blocked", "ok", "down"}


def test_eval_scenarios_prints_agreement(tmp_path, shared_data):
    result = netvigil("eval", "scenarios", db=tmp_path / "unused.duckdb")
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("agreement: ") and "of 50 scenarios" in last
    agreed = int(last.split()[1])
    assert agreed >= 48
    assert "censorship reported on 0 scenario(s)" in last
