"""Acceptance on real shutdowns (issue 5): Iran, November 2019, and twitter.com on MTN Uganda.

The data stay in the shared folder (``$NETVIGIL_SHARED_DATA``); these tests skip
only when it is absent.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import mean

import pytest

from netvigil.detect.base import detect_all
from netvigil.detect.evaluate import score
from netvigil.detect.grid import to_matrices
from netvigil.detect.incidents import merge_incidents
from netvigil.detect.records import Incident, Level
from netvigil.signals import load_signals
from netvigil.signals.ooni_sql import SCORES, parse_inserts
from netvigil.signals.truth import read_truth

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
MONASH = "monash_ip_observatory/irn-2019-11-11_gif.csv"
UGANDA = "ooni-data/oonipipeline/tests/data/ug-analysis.sql"
IODA = "ioda_investigated_outages/ioda_investigated_outages_cleaned_phase1+2.csv"
# The national index is 88 at 20:00 and 15.5 at 22:00 Iran time (UTC+03:30) on 16 November
# (research notes §4): the collapse is the hour in between, 21:00 local = 17:30 UTC.
IRAN_COLLAPSE = datetime(2019, 11, 16, 17, 30, tzinfo=UTC)


def incidents(path: Path) -> list[Incident]:
    return merge_incidents(detect_all(to_matrices(load_signals(path).points)))


@pytest.fixture(scope="module")
def iran(shared_data: Path) -> list[Incident]:
    return incidents(shared_data / MONASH)


def test_the_file_shows_the_collapse_where_the_notes_say(shared_data: Path):
    by_hour: dict[str, list[float]] = {}
    with (shared_data / MONASH).open(newline="") as f:
        for row in csv.DictReader(f):
            by_hour.setdefault(row["time_e_str"], []).append(float(row["connectivity"]))
    assert mean(by_hour["16-Nov-2019 20:00:00"]) > 85
    assert mean(by_hour["16-Nov-2019 22:00:00"]) < 20


def test_iran_national_shutdown_onset_within_an_hour_and_still_ongoing(iran: list[Incident]):
    [national] = [i for i in iran if i.entity == "IR" and i.level is Level.CRITICAL]
    assert abs(national.start - IRAN_COLLAPSE) <= HOUR
    assert national.to_dict()["start"].endswith("Z")  # reported in UTC
    assert national.end is None


def test_iran_provinces_are_listed(iran: list[Incident]):
    provinces = {i.entity for i in iran if i.entity.count("/") == 1 and i.level is Level.CRITICAL
                 and i.end is None and i.start.date() == IRAN_COLLAPSE.date()}
    assert len(provinces) == 30  # every province of the file


def test_iran_nothing_critical_before_16_november(iran: list[Incident]):
    assert [i for i in iran if i.level is Level.CRITICAL and i.start < datetime(2019, 11, 16, tzinfo=UTC)] == []


def test_iran_against_iodas_investigated_outage(shared_data: Path, iran: list[Incident]):
    truth = read_truth(shared_data / IODA).events
    scores = score(iran, truth, since=datetime(2019, 11, 10, tzinfo=UTC), until=datetime(2019, 11, 20, 3, tzinfo=UTC),
                   countries={"IR"})
    assert scores.recall == 1.0
    [match] = scores.matches  # IODA: 2019-11-16 14:00 UTC, country level
    assert abs(match.onset_error) <= HOUR


def uganda_blocking(path: Path) -> tuple[datetime, datetime, list[str]]:
    """What the rows show: the days most of whose rows score blocked >= 0.5 on some layer,
    and the first and last blocked row of those days."""
    rows: dict[str, list[tuple[datetime, bool]]] = {}
    for _, row in parse_inserts(path):
        t = datetime.fromisoformat(row["measurement_start_time"]).replace(tzinfo=UTC)
        blocked = max(float(row[s] or 0) for s in SCORES if s.endswith("_blocked")) >= 0.5
        rows.setdefault(t.date().isoformat(), []).append((t, blocked))
    days = sorted(d for d, rs in rows.items() if sum(b for _, b in rs) * 2 > len(rs))
    times = sorted(t for d in days for t, b in rows[d] if b)
    return times[0], times[-1], days


def test_uganda_blocking_onset_and_end_within_a_day(shared_data: Path):
    onset, end, days = uganda_blocking(shared_data / UGANDA)
    assert (days[0], days[-1], len(days)) == ("2026-01-17", "2026-01-23", 7)
    [incident] = incidents(shared_data / UGANDA)
    assert incident.entity == "UG/AS20294/twitter.com"
    assert abs(incident.start - onset) <= DAY
    assert incident.end is not None and abs(incident.end - end) <= DAY


def test_uganda_data_gap_is_not_an_event(shared_data: Path):
    gap = (datetime(2026, 1, 14, tzinfo=UTC), datetime(2026, 1, 17, tzinfo=UTC))
    assert all(not gap[0] <= i.start < gap[1] for i in incidents(shared_data / UGANDA))


def test_eval_outages_prints_recall_and_false_alarms_per_class(shared_data: Path, capsys: pytest.CaptureFixture[str]):
    """Issue 11: ``netvigil eval outages`` on the Iran series against IODA's investigated outages."""
    from netvigil.cli import main

    assert main(["eval", "outages", "--truth", str(shared_data / IODA), "--signals", str(shared_data / MONASH)]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith(("  scope=", "  cause="))}
    assert "recall 1.00" in lines["scope=national"] and "false alarms    0" in lines["scope=national"]
    assert "recall 1.00" in lines["cause=government_shutdown"]
    assert "kind agrees 1/1" in lines["cause=government_shutdown"]  # IODA: Government-Ordered


def test_iran_national_shutdown_is_judged_a_government_shutdown(shared_data: Path):
    from netvigil.cli.detect import detect_incidents

    found = detect_incidents(load_signals(shared_data / MONASH).points)
    [national] = [i for i in found if i.entity == "IR" and i.level is Level.CRITICAL]
    assert abs(national.start - IRAN_COLLAPSE) <= HOUR  # unchanged by the recovery merge and the kind
    assert national.kind == "government_shutdown"
    assert any("National reach" in e for e in national.kind_evidence)
