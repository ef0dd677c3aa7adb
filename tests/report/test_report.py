"""``netvigil report``: HTML and PDF whose text cites every measurement by uid and SHA-256."""

from __future__ import annotations

import argparse
import re
import subprocess
from datetime import datetime
from pathlib import Path

from netvigil.cli.serve import add_report_parser
from netvigil.store.database import open_database
from netvigil.report.data import gather


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_report_parser(parser.add_subparsers())
    args = parser.parse_args(list(argv))
    return args.func(args)


def _squeeze(text: str) -> str:
    """Text without whitespace: PDF table cells wrap long uids and hashes over lines."""
    return re.sub(r"\s+", "", text)


def test_report_pdf_and_html_cite_every_measurement_by_uid_and_sha256(report_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    assert _run("report", "--db", str(report_db), "--country", "IR", "--from", "2026-10-01", "--to", "2026-10-28",
                "--output", str(out)) == 0
    html = (out / "report-IR-20261001-20261029.html").read_text()
    pdf = out / "report-IR-20261001-20261029.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    db = open_database(report_db)
    try:
        with db.read() as con:
            data = gather(con, "IR", datetime(2026, 10, 1), datetime(2026, 10, 29))
    finally:
        db.close()
    assert data.cited and len({c["domain"] for c in data.cited}) == len({b["domain"] for b in data.blocked})
    squeezed = _squeeze(text)
    for cited in data.cited:
        assert _squeeze(cited["uid"]) in squeezed
        assert cited["sha256"] in squeezed
    for heading in ("Summary", "Charts", "Blocked sites", "Incidents", "Method", "Limitations",
                    "Cited measurements"):
        assert heading in text
    assert "critical" in text and "2026-10-14T09:00:00Z" in text
    techniques = {r["technique"] for r in data.technique_days}
    # daily results, the signal with its shaded outage, then one timeline per technique and per incident
    assert html.count("<svg") == 2 + len(techniques) + len(data.incidents) and techniques and data.incidents
    assert "&lt;svg onload=window.__xss=3&gt;.example" in html and "<svg onload" not in html


def test_report_for_a_period_without_data_says_so(report_db: Path, tmp_path: Path) -> None:
    assert _run("report", "--db", str(report_db), "--country", "NO", "--from", "2019-11-10", "--to", "2019-11-25",
                "--output", str(tmp_path), "--no-pdf") == 0
    html = (tmp_path / "report-NO-20191110-20191126.html").read_text()
    assert "holds no measurement from Norway" in html


def test_report_refuses_a_reversed_period(report_db: Path, tmp_path: Path) -> None:
    assert _run("report", "--db", str(report_db), "--country", "IR", "--from", "2019-11-25", "--to", "2019-11-10",
                "--output", str(tmp_path)) == 2
