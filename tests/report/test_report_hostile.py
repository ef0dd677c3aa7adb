"""``netvigil report`` over hostile inputs (issue 10): a blocked measurement whose input has no host."""

from __future__ import annotations

import argparse
from pathlib import Path

import orjson
import pytest

from netvigil.cli.serve import add_report_parser
from netvigil.engine import pipeline
from netvigil.store.db import open_store
from netvigil.store.reference_data import load_default_fingerprints
from netvigil.store.sources import check_record

# name -> the input of a blocked measurement, none of which has both a scheme and a host
HOSTLESS_INPUTS = {
    "no scheme": "site0.example.org/path",
    "scheme without host": "http:///nothing",
    "not a URL": "just some words",
    "unbalanced bracket": "http://[::1/",
}


@pytest.mark.parametrize("name", HOSTLESS_INPUTS)
def test_report_states_blocked_sites_whose_input_has_no_host(name: str, tmp_path: Path, measurement) -> None:
    db = tmp_path / "r.duckdb"
    records = [check_record("t", "line 1", orjson.dumps(measurement(1))),
               check_record("t", "line 2", orjson.dumps(measurement(2, input=HOSTLESS_INPUTS[name])))]
    with open_store(db) as store:
        summary = pipeline.ingest(store, records, load_default_fingerprints())
    assert summary.stored == 2, summary.by_reason
    parser = argparse.ArgumentParser()
    add_report_parser(parser.add_subparsers())
    args = parser.parse_args(["report", "--db", str(db), "--country", "IT", "--from", "2024-01-01",
                              "--to", "2024-01-01", "--output", str(tmp_path / "out"), "--no-pdf"])
    assert args.func(args) == 0
    html = (tmp_path / "out" / "report-IT-20240101-20240102.html").read_text()
    first_page = html.split('id="first-page"', 1)[1].split("</section>", 1)[0]
    assert first_page.count("<tr><td>") == 2  # both blocked sites listed for readers, the hostless one too
    assert "<tr><td>(input without a host)</td>" in first_page
    assert "(input without a host)" in html.split("<h2>Blocked sites</h2>", 1)[1]
