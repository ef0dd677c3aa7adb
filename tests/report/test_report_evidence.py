"""The report as evidence: a first page a non-technical reader can act on, human numbers,
the method with rule ids, legal context with sources, and an appendix that can be checked."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from explorer_seed import IR_DNS_NETWORKS, IR_HTTP_ONLY, seed_explorer

from netvigil.analysis.rules import RULES_VERSION
from netvigil.store.database import open_database
from netvigil.report.build import write_report
from netvigil.report.data import gather

EVIDENCE = "All regions of the country went dark within ten minutes."


@pytest.fixture(scope="module")
def story_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report-story") / "netvigil.duckdb"
    seed_explorer(path)
    return path


_RENDERED: dict[tuple[Path, str], tuple[str, str, str, Path]] = {}


def _first_plain(db_path: Path, cc: str) -> str:
    """The first page's text without layout (words in reading order), whitespace squeezed."""
    pdf = _RENDERED[(db_path, cc)][3]
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    return re.sub(r"\s+", " ", text)


def _pdf_pages(db_path: Path, cc: str, out: Path) -> tuple[str, str, str]:
    """(first page text, whole text, html) of the report for ``cc``, October 2026 (rendered once per store)."""
    if (db_path, cc) not in _RENDERED:
        _RENDERED[(db_path, cc)] = _render(db_path, cc, out)
    return _RENDERED[(db_path, cc)][:3]


def _render(db_path: Path, cc: str, out: Path) -> tuple[str, str, str, Path]:
    db = open_database(db_path)
    try:
        html_path, pdf = write_report(db, cc, datetime(2026, 10, 1), datetime(2026, 10, 29), out)
    finally:
        db.close()

    def text(*options: str) -> str:
        return subprocess.run(["pdftotext", *options, str(pdf), "-"], check=True, capture_output=True,
                              text=True).stdout

    # The first page keeps its table rows on lines (-layout); the whole text keeps each cell whole.
    return text("-layout", "-f", "1", "-l", "1"), text(), html_path.read_text(), pdf


def test_first_page_says_what_was_blocked_since_when_and_on_how_many_networks(treaty_context: Path, story_db: Path,
                                                                              tmp_path: Path) -> None:
    first, _whole, _ = _pdf_pages(story_db, "UG", tmp_path)
    row = next(line for line in first.splitlines() if "twitter.com" in line)
    assert "2026-10-05" in row and re.search(r"\s2\s", row), row  # since 5 October, on 2 networks
    assert "Uganda" in first and "voted yes (in favour)" in first and "A/RES/74/247" in first
    plain = _first_plain(story_db, "UG")
    assert "secure connections were cut" in plain and "name was said not to exist" in plain  # how, in words
    assert "Summary for readers" in first and "Legal context" in first  # the whole summary fits on page 1
    assert "Charts" not in first  # and is a page of its own


def test_first_page_names_the_networks_that_block_by_dns(story_db: Path, tmp_path: Path) -> None:
    first, _whole, _html = _pdf_pages(story_db, "IR", tmp_path)
    flat = re.sub(r"\s+", " ", first)
    dns = re.search(r"By DNS \(the name lookup\): \d+ networks? — ([A-Z0-9, ]+)", flat)
    assert dns, flat
    listed = {asn.strip() for asn in dns.group(1).split(",")}
    assert set(IR_DNS_NETWORKS) <= listed and IR_HTTP_ONLY not in listed
    assert "Critical incident in IR from 2026-10-14T09:00:00Z" in flat and "not assessed" in flat


def test_numbers_are_human_and_the_method_names_its_rules(treaty_context: Path, story_db: Path, tmp_path: Path) -> None:
    _, whole, html = _pdf_pages(story_db, "IR", tmp_path)
    assert "4200" not in whole and "severity" not in whole.lower()  # the detector's raw score never shows
    first, _, _ = _pdf_pages(story_db, "IR", tmp_path / "again")
    assert "96%" in first and "96%" in whole
    assert re.search(r"\b0\.\d{2,}\b", first) is None  # no confidence written as a bare fraction
    db = open_database(story_db)
    try:
        with db.read() as con:
            rules = gather(con, "IR", datetime(2026, 10, 1), datetime(2026, 10, 29)).rules
    finally:
        db.close()
    assert any(r["rule"].startswith("dns.") for r in rules)
    for used in rules:
        assert used["rule"] in re.sub(r"\s+", "", whole)  # table cells may wrap a long id
    assert f"verdict rule table {RULES_VERSION}" in whole
    assert "COEP: https://www.coe.int/en/web/cybercrime/the-budapest-convention" in html  # each position's source


def test_appendix_cites_each_measurement_with_its_evidence_and_sha256(story_db: Path, tmp_path: Path) -> None:
    _, whole, html = _pdf_pages(story_db, "UG", tmp_path)
    db = open_database(story_db)
    try:
        with db.read() as con:
            data = gather(con, "UG", datetime(2026, 10, 1), datetime(2026, 10, 29))
    finally:
        db.close()
    squeezed = re.sub(r"\s+", "", whole)
    appendix = squeezed[squeezed.index("Appendix—Citedmeasurements"):]
    assert data.cited
    for cited in data.cited:
        assert cited["sha256"] in appendix and re.sub(r"\s+", "", cited["uid"]) in appendix
        for key in data.evidence[cited["uid"]]:
            assert key in html


def test_incident_kind_and_its_evidence_when_detection_assessed_it(story_db: Path, tmp_path: Path) -> None:
    assessed = tmp_path / "assessed.duckdb"
    assessed.write_bytes(story_db.read_bytes())
    con = duckdb.connect(str(assessed))
    con.execute("ALTER TABLE incidents ADD COLUMN IF NOT EXISTS kind VARCHAR")
    con.execute("ALTER TABLE incidents ADD COLUMN IF NOT EXISTS kind_evidence VARCHAR[]")
    con.execute("UPDATE incidents SET kind = 'government_shutdown', kind_evidence = ?", [[EVIDENCE]])
    con.close()
    first, whole, _ = _pdf_pages(assessed, "IR", tmp_path / "out")
    assert "likely a government-ordered shutdown" in first
    assert EVIDENCE in re.sub(r"\s+", " ", whole)


def test_an_unknown_country_code_is_never_a_country(story_db: Path, tmp_path: Path) -> None:
    first, _whole, _ = _pdf_pages(story_db, "ZZ", tmp_path)
    assert "shutdowns in unknown country" in re.sub(r"\s+", " ", first)
    assert not re.search(r"\bZZ\b", first)
