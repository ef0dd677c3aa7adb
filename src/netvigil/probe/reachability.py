"""Reachability rounds: connect to a list of endpoints on a schedule (the active-probing signal).

In the spirit of Trinocular (and IODA's trinarkular): every round probes every
endpoint once, and what goes out is a count per entity, not a per-connection
record, because the detector reasons about the share of probes answered
(:mod:`netvigil.detect.belief`).  A probe is the probe's own TCP step
(:func:`netvigil.probe.net.tcp_connect`) with its per-connect timeout; an
endpoint named by host is resolved every round with the probe's resolver,
because during a shutdown the name service goes dark too.  *Answered* means the
TCP handshake completed: a refusal is counted as a failure (``connection_refused``)
since the endpoints listed are services expected to accept.

One JSON line per entity per round (:meth:`RoundResult.to_dict`), ``time`` being the
start of the round's slot (:class:`Schedule`)::

    {"entity": "IR/AS44244", "time": "2026-05-01T10:00:00.000Z", "sent": 3, "answered": 2,
     "failures": {"generic_timeout_error": 1}}

which ``netvigil detect --signals FILE`` reads (:mod:`netvigil.signals.rounds`).
"""

from __future__ import annotations

import asyncio
import csv
import ipaddress
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from netvigil.model.times import floor_time
from netvigil.probe.config import ConfigError, parse_hostport
from netvigil.probe.net import Net, tcp_connect
from netvigil.probe.resolve import resolve
from netvigil.probe.trace import Trace

HEADER = ("entity", "endpoint")


@dataclass(frozen=True, slots=True)
class Endpoint:
    entity: str
    host: str
    port: int


def parse_endpoint(text: str, *, entity: str | None = None) -> Endpoint:
    """``host:port``, ``ip:port`` or ``[v6]:port``; the entity defaults to the endpoint itself."""
    value = text.strip()
    host, port = parse_hostport(value)
    if not host:
        raise ConfigError(f"endpoint {text!r} has no host")
    return Endpoint(entity=(entity or value).strip(), host=host, port=port)


def read_endpoints(path: Path, *, entity: str | None = None) -> list[Endpoint]:
    """Lines ``endpoint`` or ``entity,endpoint`` (CSV; a header ``entity,endpoint``, blank lines
    and ``#`` comments are skipped).  Raises ConfigError naming the line that is wrong."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    found = []
    for number, row in enumerate(csv.reader(lines), 1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#") or tuple(c.lower() for c in cells) == HEADER:
            continue
        try:
            found.append(_endpoint_from_cells(cells, entity))
        except ConfigError as exc:
            raise ConfigError(f"{path}:{number}: {exc}") from exc
    return found


def _endpoint_from_cells(cells: list[str], entity: str | None) -> Endpoint:
    if len(cells) == 1:
        return parse_endpoint(cells[0], entity=entity)
    if len(cells) == 2 and cells[0]:
        return parse_endpoint(cells[1], entity=cells[0])
    raise ConfigError(f"expected 'endpoint' or 'entity,endpoint', got {','.join(cells)!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundResult:
    """One round towards one entity: probes sent, answered, and why the others were not."""

    entity: str
    time: datetime
    sent: int
    answered: int
    failures: tuple[tuple[str, int], ...] = ()  # (df-007 failure, count), most common first

    def to_dict(self) -> dict[str, Any]:
        stamp = self.time.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {"entity": self.entity, "time": stamp, "sent": self.sent, "answered": self.answered,
                "failures": dict(self.failures)}


async def probe(endpoint: Endpoint, *, net: Net) -> str | None:
    """Connect once (to each resolved address in turn until one accepts): None, or the failure."""
    trace = Trace()  # the steps' records are not kept: a round reports counts only
    addresses: tuple[str, ...] = (endpoint.host,)
    if not _is_ip(endpoint.host):
        resolution = await resolve(endpoint.host, depth=0, net=net, trace=trace, side_lookups=False)
        if resolution.failure is not None:
            return resolution.failure
        addresses = resolution.addresses
    failure: str | None = None
    for ip in addresses:
        result, conn = await tcp_connect(ip, endpoint.port, net=net, trace=trace,
                                         transaction_id=trace.next_id(), tags=())
        if conn is not None:
            conn.close()
            return None
        failure = result.failure
    return failure


async def run_round(endpoints: Sequence[Endpoint], *, net: Net, concurrency: int,
                    at: datetime) -> list[RoundResult]:
    """Probe every endpoint (at most ``concurrency`` at once); one result per entity, in input order."""
    limit = asyncio.Semaphore(max(1, concurrency))

    async def one(endpoint: Endpoint) -> tuple[str, str | None]:
        async with limit:
            return endpoint.entity, await probe(endpoint, net=net)

    return tally(await asyncio.gather(*(one(e) for e in endpoints)), at)


def tally(outcomes: Iterable[tuple[str, str | None]], at: datetime) -> list[RoundResult]:
    """(entity, failure or None) per probe -> one :class:`RoundResult` per entity."""
    sent: Counter[str] = Counter()
    failures: dict[str, Counter[str]] = {}
    for entity, failure in outcomes:
        sent[entity] += 1
        failures.setdefault(entity, Counter())
        if failure is not None:
            failures[entity][failure] += 1
    return [RoundResult(entity=entity, time=at, sent=n, answered=n - failures[entity].total(),
                        failures=tuple(failures[entity].most_common())) for entity, n in sent.items()]


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    """Rounds run in slots: UTC multiples of ``interval`` since the epoch (as IODA's 600 s
    ping-slash24 points are), one round per slot, each starting a random delay of up to
    ``jitter x interval`` into its slot so that unattended probes do not fire in lockstep.

    A round is labelled with its slot's start, so every round of every run (and of a
    restart appending to the same file) lies on one regular grid, which is what the
    detectors need; when exactly inside the slot the probes went out does not change
    what the round says.  A round that overruns its slot moves the next one to the slot
    it ends in, never two rounds to one slot.
    """

    rounds: int = 1           # 0: until interrupted
    interval: float = 600.0   # seconds; trinarkular's round is 10 minutes (research notes §1.5)
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.rounds < 0 or self.interval <= 0 or not 0 <= self.jitter < 1:
            raise ConfigError("need rounds >= 0, interval > 0 and 0 <= jitter < 1")

    @property
    def step(self) -> timedelta:
        return timedelta(seconds=self.interval)

    def slot(self, moment: datetime) -> datetime:
        """The start of the slot ``moment`` falls in."""
        return floor_time(moment, self.step)

    def next_slot(self, last: datetime, now: datetime) -> datetime:
        """The slot after ``last``, or the one ``now`` is in when the last round overran."""
        return max(last + self.step, self.slot(now))

    def start_in(self, slot: datetime, rng: random.Random) -> datetime:
        return slot + self.step * rng.uniform(0.0, self.jitter)


def utc_now() -> datetime:
    return datetime.now(UTC)


async def run_rounds(endpoints: Sequence[Endpoint], *, net: Net, schedule: Schedule, concurrency: int,
                     emit: Callable[[RoundResult], None], clock: Callable[[], datetime] = utc_now,
                     sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                     rng: random.Random | None = None) -> int:
    """Run the scheduled rounds (the first at once, in the current slot), handing every result
    to ``emit`` as soon as its round ends; returns how many rounds ran.  ``clock``, ``sleep``
    and ``rng`` are injectable so that tests can run days of rounds in a moment."""
    rng = rng or random.Random()
    slot = schedule.slot(clock())
    done = 0
    while schedule.rounds == 0 or done < schedule.rounds:
        if done:
            slot = schedule.next_slot(slot, clock())
            await sleep(max(0.0, (schedule.start_in(slot, rng) - clock()).total_seconds()))
        for result in await run_round(endpoints, net=net, concurrency=concurrency, at=slot):
            emit(result)
        done += 1
    return done


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
