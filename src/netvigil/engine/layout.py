"""Where OONI keeps raw measurements in its public S3 bucket (ooni/backend docs/MeasurementUploader.md).

Two layouts, chosen by day:

* before 2020-10-21, daily JSONL cans:
  ``jsonl/<testname>/<CC>/<YYYYMMDD>/00/<name>.jsonl.gz``;
* from 2020-10-21, hourly files under ``raw/<YYYYMMDD>/<HH>/<CC>/<testname>/``: JSONL cans
  ``<ts>_<CC>_<testname>.<host>.<n>.jsonl.gz`` and "postcans" ``… .tar.gz`` holding the same
  measurements as the HTTP POSTs the probes sent.

``testname`` is the test name with its underscores removed.  Where an hour has JSONL cans
the postcans are skipped (they repeat the same measurements); a postcan is fetched only
when its hour has no JSONL can, as in the earliest days of the ``raw`` layout.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

OONI_BUCKET = "ooni-data-eu-fra"
OONI_REGION = "eu-central-1"
RAW_LAYOUT_FROM = date(2020, 10, 21)
JSONL_SUFFIX = ".jsonl.gz"
POSTCAN_SUFFIX = ".tar.gz"


@dataclass(frozen=True, slots=True)
class Wanted:
    """A country, a test and an inclusive range of UTC days."""

    country: str
    test_name: str
    since: date
    until: date

    def __post_init__(self) -> None:
        if len(self.country) != 2 or not self.country.isalpha():
            raise ValueError(f"country must be a 2-letter code, not {self.country!r}")
        if self.until < self.since:
            raise ValueError(f"--until {self.until} is before --since {self.since}")

    @property
    def cc(self) -> str:
        return self.country.upper()

    @property
    def bucket_test_name(self) -> str:
        return self.test_name.replace("_", "")

    def days(self) -> Iterator[date]:
        day = self.since
        while day <= self.until:
            yield day
            day += timedelta(days=1)


def day_prefixes(wanted: Wanted, day: date) -> tuple[str, ...]:
    """The key prefixes to list for one day: the daily can folder, or the day's hourly folders."""
    stamp = day.strftime("%Y%m%d")
    if day < RAW_LAYOUT_FROM:
        return (f"jsonl/{wanted.bucket_test_name}/{wanted.cc}/{stamp}/",)
    return tuple(f"raw/{stamp}/{hour:02d}/{wanted.cc}/{wanted.bucket_test_name}/" for hour in range(24))


def pick_keys(keys: list[str]) -> list[str]:
    """Measurement files among the keys of one folder: JSONL cans, else the postcans."""
    cans = sorted(k for k in keys if k.endswith(JSONL_SUFFIX))
    return cans or sorted(k for k in keys if k.endswith(POSTCAN_SUFFIX))
