"""The measurement's clock, transaction ids and network events.

One :class:`Trace` per measurement (or per helper request): ``t0``/``t`` of every
record are seconds since its creation, and every attempt (one DNS lookup, one
endpoint) gets its own ``transaction_id`` so that analysis can join the TCP,
TLS, HTTP and I/O records of one connection without guessing from timestamps.
"""

from __future__ import annotations

import itertools
import time

from netvigil.probe.records import NetworkEvent


class Trace:
    def __init__(self) -> None:
        self._zero = time.monotonic()
        self._ids = itertools.count(1)
        self.events: list[NetworkEvent] = []

    def now(self) -> float:
        return round(time.monotonic() - self._zero, 6)

    def next_id(self) -> int:
        return next(self._ids)

    def event(self, operation: str, *, t0: float, transaction_id: int, tags: tuple[str, ...],
              address: str | None = None, num_bytes: int | None = None,
              failure: str | None = None) -> None:
        self.events.append(NetworkEvent(
            operation=operation, address=address, num_bytes=num_bytes, failure=failure,
            t0=t0, t=self.now(), transaction_id=transaction_id, tags=tags))


def tags(*, depth: int, classic: bool, fetch_body: bool | None = None) -> tuple[str, ...]:
    """OONI v0.5 tags: ``classic`` for the fetch's own path, ``depth=N``, ``fetch_body=...``."""
    found = ["classic"] if classic else []
    found.append(f"depth={depth}")
    if fetch_body is not None:
        found.append(f"fetch_body={'true' if fetch_body else 'false'}")
    return tuple(found)
