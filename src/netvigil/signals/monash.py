"""Monash IP Observatory connectivity index CSV (sodalabsio/shared_data ``Monash-IP-Observatory``).

Columns ``iso, id_1, name_1, id_2, name_2, time_e, time_e_str, lat, lon,
connectivity``: one row per county and hour, the index running from 0
(effectively offline) to 100 (normal).  The upstream README says ``time_e`` is an
epoch "but in local time": the local wall-clock time written as if it were UTC
(1573430400 is "11-Nov-2019 00:00:00").  The importer reads that wall-clock time in
the country's time zone and converts it to UTC; Iran is Asia/Tehran, UTC+03:30 in
November 2019 (IRST, per the data's MANIFEST).

The file holds counties only.  Provinces and the country are the unweighted mean of
their counties' indexes at each hour (Monash publishes no weights), so the national
signal is the average county, not the average user.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from netvigil.detect.records import SignalKind, SignalPoint
from netvigil.signals.countries import country_code
from netvigil.signals.errors import SignalFormatError

SOURCE = "monash"
COLUMNS = ("iso", "id_1", "name_1", "id_2", "name_2", "time_e", "time_e_str", "lat", "lon", "connectivity")
LEVELS = ("country", "province", "county")
# Zone of each country whose Monash files are known; others need ``tz=``.
TIME_ZONES = {"IRN": "Asia/Tehran"}
_TIME_STR = "%d-%b-%Y %H:%M:%S"


def is_monash(header: list[str]) -> bool:
    return tuple(header) == COLUMNS


def read_monash(path: str | Path, *, levels: Iterable[str] = ("country", "province"),
                tz: str | None = None) -> list[SignalPoint]:
    """Points for the requested levels, in UTC; raises :class:`SignalFormatError` on the first bad row."""
    wanted = set(levels)
    if not wanted <= set(LEVELS):
        raise ValueError(f"unknown Monash levels {sorted(wanted - set(LEVELS))}; choose from {LEVELS}")
    counties = _county_rows(Path(path), tz)
    sums: dict[tuple[str, datetime], list[float]] = defaultdict(list)
    points = []
    for (country, province, county), time, value in counties:
        if "county" in wanted:
            points.append(_point(f"{country}/{province}/{county}", time, value))
        if "province" in wanted:
            sums[(f"{country}/{province}", time)].append(value)
        if "country" in wanted:
            sums[(country, time)].append(value)
    points += [_point(entity, time, sum(vs) / len(vs)) for (entity, time), vs in sums.items()]
    return points


def _point(entity: str, time: datetime, value: float) -> SignalPoint:
    return SignalPoint(entity=entity, source=SOURCE, time=time, value=value, kind=SignalKind.ACTIVE_PROBING)


def _county_rows(path: Path, tz: str | None) -> list[tuple[tuple[str, str, str], datetime, float]]:
    rows = []
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        if not is_monash(header):
            raise SignalFormatError(path, 1, f"not a Monash IP Observatory file: header {header}")
        for row in reader:
            try:
                rows.append(_county_row(dict(zip(COLUMNS, row, strict=True)), tz))
            except ValueError as exc:
                raise SignalFormatError(path, reader.line_num, str(exc)) from exc
    return rows


def _county_row(row: dict[str, str], tz: str | None) -> tuple[tuple[str, str, str], datetime, float]:
    zone = tz or TIME_ZONES.get(row["iso"])
    if zone is None:
        raise ValueError(f"no known time zone for {row['iso']!r}: pass tz=")
    country = country_code(row["iso"])
    if country is None:
        raise ValueError(f"unknown country code {row['iso']!r}")
    wall = datetime.fromtimestamp(int(row["time_e"]), UTC).replace(tzinfo=None)
    if wall != datetime.strptime(row["time_e_str"], _TIME_STR):
        raise ValueError(f"time_e {row['time_e']} is not time_e_str {row['time_e_str']!r}")
    value = float(row["connectivity"])
    if not 0.0 <= value <= 100.0:
        raise ValueError(f"connectivity {value} outside 0..100")
    time = wall.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    return (country, row["name_1"].strip(), row["name_2"].strip()), time, value
