"""Each country's recent state, for the world map and the country pages.

An archive is not live, so "recent" means the last :data:`WINDOW_DAYS` days up
to the newest data held (measurements or signals), unless a date is given.
A country's state, most serious first:

- ``outage``: a detected incident overlaps the window;
- ``blocking``: at least :data:`BLOCKING_SHARE` of its measurements were blocked,
  or any block was confirmed by a fingerprint;
- ``anomalies``: some measurements blocked, fewer than that;
- ``normal``: measured, nothing blocked;
- absent from the list: no data in the window.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import pycountry

from netvigil.store.incidents import incidents, latest_signal_time
from netvigil.store.rollup import COUNTS, TABLE

WINDOW_DAYS = 7
BLOCKING_SHARE = 0.10
STATES = ("outage", "blocking", "anomalies", "normal")


def country_name(cc: str) -> str:
    """A readable name; the code itself when ISO 3166 does not know it."""
    found = pycountry.countries.get(alpha_2=cc)
    return getattr(found, "common_name", None) or getattr(found, "name", None) or cc


def numeric_code(cc: str) -> str | None:
    """ISO 3166-1 numeric code: the ``id`` of world-atlas features."""
    found = pycountry.countries.get(alpha_2=cc)
    return found.numeric if found else None


def newest_day(con: duckdb.DuckDBPyConnection) -> date | None:
    """The last day with measurements or signal points."""
    measured = con.execute(f"SELECT max(day) FROM {TABLE}").fetchall()[0][0]
    signalled = latest_signal_time(con)
    found = [d for d in (measured, signalled.date() if signalled else None) if d is not None]
    return max(found) if found else None


def window(con: duckdb.DuckDBPyConnection, at: date | None, days: int = WINDOW_DAYS) -> tuple[datetime, datetime]:
    """[start, end) of the recent window: ``days`` days ending with ``at`` or the newest data."""
    last = at or newest_day(con) or datetime.now(UTC).date()
    end = datetime.combine(last, datetime.min.time()) + timedelta(days=1)
    return end - timedelta(days=days), end


def country_states(con: duckdb.DuckDBPyConnection, at: date | None = None) -> dict[str, Any]:
    """Every country with data or incidents in the window, with counts and state."""
    start, end = window(con, at)
    sums = ", ".join(f"sum({c})" for c in COUNTS)
    rows = con.execute(f"SELECT probe_cc, {sums} FROM {TABLE} WHERE day >= ? AND day < ? GROUP BY 1",
                       [start.date(), end.date()]).fetchall()
    counts = {cc: dict(zip(COUNTS, (int(v) for v in values), strict=True)) for cc, *values in rows}
    recent = incidents(con, overlapping=(start, end))
    codes = sorted(set(counts) | {i["country"] for i in recent})
    return {"window": {"from": start.isoformat(), "to": end.isoformat()},
            "countries": [_country(cc, counts.get(cc), [i for i in recent if i["country"] == cc]) for cc in codes]}


def _country(cc: str, counts: dict[str, int] | None, recent: list[dict[str, Any]]) -> dict[str, Any]:
    counts = counts or dict.fromkeys(COUNTS, 0)
    measured = counts["measurement_count"]
    share = counts["anomaly_count"] / measured if measured else 0.0
    return {"probe_cc": cc, "name": country_name(cc), "numeric": numeric_code(cc), **counts,
            "anomaly_share": round(share, 4), "incidents": len(recent),
            "ongoing_incidents": sum(i["ongoing"] for i in recent), "state": _state(counts, share, recent)}


def _state(counts: dict[str, int], share: float, recent: list[dict[str, Any]]) -> str:
    if recent:
        return "outage"
    if counts["confirmed_count"] or share >= BLOCKING_SHARE:
        return "blocking"
    return "anomalies" if counts["anomaly_count"] else "normal"
