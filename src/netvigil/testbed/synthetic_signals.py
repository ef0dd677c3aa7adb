"""A synthetic connectivity signal with a known shutdown, for the demo.

Writes the generic signal CSV (``entity,time,value,kind``) that ``netvigil detect``
reads: an hourly active-probing index per entity with a daily cycle and noise, in
which every entity of the chosen country collapses to a few percent of normal at
``shutdown_start`` for ``shutdown_hours`` (0 = still ongoing at the end), the way
the Iran November 2019 index did.  The ground truth is printed so a reader can
compare it with what the detector finds.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
from datetime import UTC, datetime, timedelta

PROVINCES = ("Tehran", "Isfahan", "Khuzestan", "Fars", "Razavi Khorasan")


def series(*, start: datetime, days: int, shutdown_start: datetime, shutdown_hours: int,
           country: str = "IR", seed: int = 0) -> list[tuple[str, datetime, float]]:
    rng = random.Random(seed)
    end = shutdown_start + timedelta(hours=shutdown_hours) if shutdown_hours else None
    points = []
    for entity, scale in [(country, 5000.0)] + [(f"{country}/{p}", 400.0 + 150 * i) for i, p in enumerate(PROVINCES)]:
        for hour in range(days * 24):
            t = start + timedelta(hours=hour)
            daily = 1.0 + 0.08 * math.sin(2 * math.pi * (t.hour - 6) / 24)  # a mild diurnal cycle
            value = scale * daily * rng.gauss(1.0, 0.03)
            if t >= shutdown_start and (end is None or t < end):
                value *= rng.uniform(0.02, 0.08)
            points.append((entity, t, round(value, 1)))
    return points


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m netvigil.testbed.synthetic_signals", description=__doc__)
    parser.add_argument("--output", required=True)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--shutdown-hours", type=int, default=0, help="0: still ongoing at the end of the data")
    parser.add_argument("--shutdown-days-before-end", type=float, default=2.25)
    args = parser.parse_args(argv)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=args.days)
    shutdown = now - timedelta(days=args.shutdown_days_before_end)
    shutdown = shutdown.replace(minute=0)
    with open(args.output, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["entity", "time", "value", "kind"])
        for entity, t, value in series(start=start, days=args.days, shutdown_start=shutdown,
                                       shutdown_hours=args.shutdown_hours):
            writer.writerow([entity, t.strftime("%Y-%m-%dT%H:%M:%SZ"), value, "active-probing"])
    ends = f"after {args.shutdown_hours} h" if args.shutdown_hours else "ongoing at the end of the data"
    print(f"wrote {args.output}: hourly index, shutdown from {shutdown:%Y-%m-%d %H:%M} UTC, {ends}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
