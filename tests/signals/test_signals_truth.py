"""Ground-truth catalogs: IODA's investigated outages, Access Now STOP, labelled CSV."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from netvigil.signals.countries import country_code, country_codes
from netvigil.signals.truth import parse_ioda_time, read_truth


@pytest.mark.parametrize(("text", "expected"), [
    ("Saturday, November 16, 2019, 2:00:00 PM", datetime(2019, 11, 16, 14, tzinfo=UTC)),
    ("Sunday, May 27, 2018, 11:00 PM", datetime(2018, 5, 27, 23, tzinfo=UTC)),
    ("4/3/2020  15:15:00 PM", datetime(2020, 4, 3, 15, 15, tzinfo=UTC)),
    ("1/31/2020  21:0:00 PM", datetime(2020, 1, 31, 21, tzinfo=UTC)),
    ("Monday, October 25, 2021, 2:30: AM", datetime(2021, 10, 25, 2, 30, tzinfo=UTC)),
    ("Saturday June 2, 2018, 8:00 AM", datetime(2018, 6, 2, 8, tzinfo=UTC)),
])
def test_ioda_time_variants(text: str, expected: datetime):
    assert parse_ioda_time(text) == expected


@pytest.mark.parametrize(("name", "code"), [
    ("Iran (Islamic Republic of)", "IR"), ("Myanmar/Burma", "MM"), ("IRN", "IR"), ("Turkey", "TR"),
    ("Democratic Republic of (DRC)", "CD"), ("Bosnia & Herzegovina", "BA"), ("Kyrgyz Republic (Kyrgyzstan)", "KG"),
    ("European Union", None),
])
def test_country_names(name: str, code: str | None):
    assert country_code(name) == code


def test_several_countries_in_one_field():
    assert country_codes("Laos; Myanmar") == ("LA", "MM")


def test_labelled_csv(tmp_path: Path):
    path = tmp_path / "labels.csv"
    path.write_text("entity,start,end,label\nIR/Tehran,2019-11-16T14:00:00Z,,national\n"
                    "Atlantis,2019-11-16T14:00:00Z,2019-11-17T00:00:00Z,nowhere\n")
    truth = read_truth(path)
    [event] = truth.events
    assert event.countries == ("IR",) and event.end is None
    assert truth.skipped == (f"{path}:3: unknown country 'Atlantis'",)


def test_ioda_catalog(shared_data: Path):
    truth = read_truth(shared_data / "ioda_investigated_outages/ioda_investigated_outages_cleaned_phase1+2.csv")
    assert len(truth.events) == 1_703 and len(truth.skipped) == 1  # of 1,704 records "European Union" has no country
    iran = [e for e in truth.events if e.countries == ("IR",) and e.start == datetime(2019, 11, 16, 14, tzinfo=UTC)]
    assert [e.end for e in iran] == [datetime(2019, 11, 24, 20, 30, tzinfo=UTC)]


@pytest.mark.parametrize("name", ["access_now_snapshot_2026-05-20.parquet",
                                  "access_now_snapshot_2026-05-20.derived.csv"])
def test_stop_catalog(shared_data: Path, name: str):
    truth = read_truth(shared_data / "accessnow_stop" / name)
    iran = sorted(e.end for e in truth.events if "IR" in e.countries and e.start == datetime(2019, 11, 16, tzinfo=UTC))
    assert iran == [datetime(2019, 11, 24, tzinfo=UTC), datetime(2019, 11, 25, tzinfo=UTC)]  # end day inclusive
    assert truth.skipped == ()
    with_services = read_truth(shared_data / "accessnow_stop" / name, service_based=True)
    assert len(with_services.events) > len(truth.events)
