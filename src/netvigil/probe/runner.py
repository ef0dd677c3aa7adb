"""Measure a list of URLs: bounded concurrency, JSONL output, resume, schedule, collector.

Resumable: URLs whose measurement is already in the output file are skipped, so
an interrupted run continues where it stopped (each line is flushed as soon as
it is measured; a torn last line from a crash is ignored and measured again).
Per-step timeouts live in the :class:`ProbeConfig`; the runner adds none.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from netvigil.evidence.signing import Signer, sign_measurement
from netvigil.probe import web_connectivity
from netvigil.probe.config import ProbeConfig
from netvigil.probe.inputs import Input
from netvigil.probe.session import Session
from netvigil.probe.spool import Collector, Spool

log = logging.getLogger(__name__)

# One input -> one measurement (web_connectivity's ``measure``, or another experiment's).
Measure = Callable[..., Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    output: Path
    concurrency: int = 32
    progress: bool = True
    spool: Spool | None = None
    collector: Collector | None = None
    signer: Signer | None = None  # signs every measurement before it is written (netvigil.evidence.signing)


@dataclass(frozen=True, slots=True)
class RunStats:
    measured: int
    skipped: int
    submitted: int


def already_measured(output: Path) -> set[str]:
    """Inputs with a complete line in ``output``."""
    if not output.exists():
        return set()
    done = set()
    with output.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                log.warning("%s:%d: unreadable line (interrupted write?), its URL will be measured again",
                            output, number)
                continue
            if isinstance(record, dict) and isinstance(record.get("input"), str):
                done.add(record["input"])
    return done


async def run_list(inputs: Sequence[Input], config: ProbeConfig, options: RunOptions, *,
                   measure: Measure = web_connectivity.measure) -> RunStats:
    """Measure every input not yet in the output; ``measure(input, config, session=...)`` is the
    experiment (web_connectivity unless told), so every experiment gets resume, bounded
    concurrency, progress and the collector from this one runner."""
    done = already_measured(options.output)
    todo = [i.url for i in inputs if i.url not in done]
    session = Session.start(config)
    submitted = 0
    if options.collector and options.spool:
        submitted += await options.collector.drain(options.spool)  # leftovers of earlier runs first
    with append_jsonl(options.output) as out, _progress(options.progress, len(todo)) as advance:
        def record(measurement: dict[str, Any]) -> None:
            if options.signer is not None:
                measurement = sign_measurement(measurement, options.signer)
            write_jsonl(out, measurement)
            if options.spool:
                options.spool.add(measurement)
            advance()

        await _measure_all(todo, config, session, options.concurrency, record, measure)
    if options.collector and options.spool:
        submitted += await options.collector.drain(options.spool)
    return RunStats(measured=len(todo), skipped=len(inputs) - len(todo), submitted=submitted)


async def _measure_all(urls: list[str], config: ProbeConfig, session: Session, concurrency: int,
                       record: Callable[[dict[str, Any]], None], measure: Measure) -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for url in urls:
        queue.put_nowait(url)

    async def worker() -> None:
        while not queue.empty():
            url = queue.get_nowait()
            record(await measure(url, config, session=session))

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(urls))))))


def append_jsonl(output: Path) -> IO[bytes]:
    """Open for appending; a torn last line (no newline) is closed first so that it
    cannot swallow the next record."""
    output.parent.mkdir(parents=True, exist_ok=True)
    out = output.open("ab+")
    if out.tell() > 0:
        out.seek(-1, 2)
        if out.read(1) != b"\n":
            out.write(b"\n")
    return out


def write_jsonl(out: IO[bytes], record: dict[str, Any]) -> None:
    """One record, one line, flushed at once (what makes a run resumable)."""
    out.write(orjson.dumps(record) + b"\n")
    out.flush()


class _progress:
    """A rich progress bar with ETA on stderr (or nothing), as a context giving ``advance()``."""

    def __init__(self, enabled: bool, total: int) -> None:
        self._bar = Progress(TextColumn("measuring"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                             TextColumn("eta"), TimeRemainingColumn(), console=Console(stderr=True),
                             disable=not enabled)
        self._task = self._bar.add_task("urls", total=total)

    def __enter__(self) -> Callable[[], None]:
        self._bar.start()
        return lambda: self._bar.advance(self._task)

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()


async def run_scheduled(inputs: Sequence[Input], config: ProbeConfig, options: RunOptions, *, hours: float,
                        jitter: float = 0.1, rounds: int | None = None,
                        sleep: Callable[[float], Any] = asyncio.sleep) -> list[RunStats]:
    """Measure the list every ``hours`` (each wait drawn within ±``jitter`` of it, so unattended
    probes do not all fire at once), each round into its own ``<output>-<UTC time>-<round>.jsonl``."""
    stats = []
    while rounds is None or len(stats) < rounds:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        name = f"{options.output.stem}-{stamp}-{len(stats) + 1}{options.output.suffix or '.jsonl'}"
        output = options.output.with_name(name)
        round_options = RunOptions(output=output, concurrency=options.concurrency, progress=options.progress,
                                   spool=options.spool, collector=options.collector, signer=options.signer)
        stats.append(await run_list(inputs, config, round_options))
        if rounds is None or len(stats) < rounds:
            await sleep(hours * 3600 * random.uniform(1 - jitter, 1 + jitter))
    return stats
