"""Time on a regular grid, shared by detection (bins) and the probe (reachability rounds)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def floor_time(t: datetime, step: timedelta) -> datetime:
    """The start of the ``step``-long bin holding ``t``, bins counted from the Unix epoch."""
    return t - (t - EPOCH) % step
