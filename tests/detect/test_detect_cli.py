"""``netvigil detect``, ``watch`` and ``eval outages`` end to end, through their argparse wiring."""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import orjson
import pytest

from netvigil.cli.detect import add_detect_parsers
from netvigil.detect.records import iso

T0 = datetime(2024, 5, 1, tzinfo=UTC)
STEP = timedelta(minutes=5)
ONSET = 700


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="netvigil")
    add_detect_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def signal_lines(bins: int = 3 * 288) -> list[str]:
    lines = ["entity,time,value"]
    for i in range(bins):
        value = 40.0 if ONSET <= i < ONSET + 24 else 1000.0
        lines.append(f"SD,{iso(T0 + i * STEP)},{value}")
    return lines


@pytest.fixture
def signal_csv(tmp_path: Path) -> Path:
    path = tmp_path / "sd.csv"
    path.write_text("\n".join(signal_lines()) + "\n")
    return path


def test_detect_a_generic_csv_needs_no_flag(signal_csv: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["detect", "--signals", str(signal_csv), "--format", "jsonl"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    doc = orjson.loads(line)
    assert doc["entity"] == "SD" and doc["signals"] == ["sd"]
    assert (doc["start"], doc["end"]) == (iso(T0 + ONSET * STEP), iso(T0 + (ONSET + 24) * STEP))
    assert doc["on_the_hour"] is False  # 2024-05-01 10:20 UTC, 5-minute bins


def test_detect_reports_a_bad_row_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "bad.csv"
    path.write_text("entity,time,value\nSD,2024-05-01T00:00:00Z,1\nSD,yesterday,2\n")
    assert main(["detect", "--signals", str(path)]) == 2
    assert f"{path}:3:" in capsys.readouterr().err


def test_detect_stores_points_and_incidents(signal_csv: Path, tmp_path: Path):
    from netvigil.store.signals_db import open_signals_store

    db = tmp_path / "nv.duckdb"
    assert main(["detect", "--signals", str(signal_csv), "--store", "--db", str(db)]) == 0
    with open_signals_store(db) as store:
        assert len(store.points()) == 3 * 288 and len(store.incidents()) == 1


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        self.received.append(orjson.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    received: list[dict] = []
    _Hook.received = received
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alerts", received
    server.shutdown()
    server.server_close()


def test_watch_alerts_to_terminal_jsonl_and_webhook(signal_csv: Path, tmp_path: Path, webhook,
                                                    capsys: pytest.CaptureFixture[str]):
    url, received = webhook
    alerts = tmp_path / "alerts.jsonl"
    assert main(["watch", "--input", str(signal_csv), "--alerts", str(alerts), "--webhook", url]) == 0
    out = capsys.readouterr()
    assert "RAISED" in out.out and "RESOLVED" in out.out
    assert "latency median 2.0 bins (600 s)" in out.err
    written = [orjson.loads(line) for line in alerts.read_bytes().splitlines()]
    assert [a["event"] for a in written] == ["raised", "resolved"] == [a["event"] for a in received]
    assert written[0]["latency_bins"] <= 2 and written[0]["start"] == iso(T0 + ONSET * STEP)


def test_watch_a_webhook_that_fails_is_reported(signal_csv: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["watch", "--input", str(signal_csv), "--webhook", "http://127.0.0.1:9/closed"]) == 2
    assert "webhook http://127.0.0.1:9/closed failed" in capsys.readouterr().err


def test_watch_follows_a_growing_file(tmp_path: Path):
    stream = tmp_path / "stream.jsonl"
    alerts = tmp_path / "alerts.jsonl"
    lines = signal_lines()
    docs = [dict(zip(("entity", "time", "value"), line.split(","), strict=True)) for line in lines[1:]]
    stream.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in docs[:ONSET]))
    args = ["watch", "--input", str(stream), "--follow", "--poll", "0.02", "--idle-exit", "0.5",
            "--alerts", str(alerts)]
    thread = threading.Thread(target=main, args=(args,))
    thread.start()
    time.sleep(0.2)
    with stream.open("ab") as f:
        for d in docs[ONSET:]:
            f.write(orjson.dumps(d) + b"\n")
    thread.join(timeout=30)
    assert [orjson.loads(x)["event"] for x in alerts.read_bytes().splitlines()] == ["raised", "resolved"]


def test_watch_reports_unreadable_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "s.jsonl"
    path.write_text('{"entity": "SD", "time": "2024-05-01T00:00:00Z", "value": 1}\n[1, 2]\n')
    assert main(["watch", "--input", str(path)]) == 2
    assert "line 2" in capsys.readouterr().err


def test_eval_outages_with_a_labelled_file(signal_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    truth = tmp_path / "truth.csv"
    start = T0 + ONSET * STEP
    truth.write_text(f"country,start,end,label\nSudan,{iso(start - STEP)},{iso(start + 2 * timedelta(hours=1))},x\n"
                     f"SD,2024-05-02T12:00:00Z,2024-05-02T13:00:00Z,missed\n")
    assert main(["eval", "outages", "--truth", str(truth), "--signals", str(signal_csv)]) == 0
    out = capsys.readouterr().out
    assert "precision 1.00  recall 0.50" in out
    assert "onset error  median 0.1 h" in out and "end error    median 0.0 h" in out


def test_eval_outages_reads_detect_output(signal_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    main(["detect", "--signals", str(signal_csv)])
    incidents = tmp_path / "incidents.jsonl"
    incidents.write_text(capsys.readouterr().out)
    truth = tmp_path / "truth.csv"
    truth.write_text(f"entity,start,end\nSD/x,{iso(T0)},{iso(T0 + 3 * timedelta(days=1))}\n")
    assert main(["eval", "outages", "--truth", str(truth), "--incidents", str(incidents),
                 "--since", iso(T0), "--until", iso(T0 + timedelta(days=3))]) == 0
    assert "precision 1.00  recall 1.00" in capsys.readouterr().out


def test_detect_probing_rounds_with_the_belief_detector(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "rounds.csv"
    step = timedelta(minutes=11)
    rows = [f"AS58224,{iso(T0 + i * step)},{0.0 if 30 <= i < 36 else 0.6},reachability,15" for i in range(60)]
    path.write_text("entity,time,value,kind,weight\n" + "\n".join(rows) + "\n")
    assert main(["detect", "--signals", str(path)]) == 0
    [doc] = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (doc["start"], doc["end"], doc["level"]) == (iso(T0 + 30 * step), iso(T0 + 36 * step), "critical")
