"""Submission to a collector, with a local spool so that nothing is lost while offline.

Every measurement is first written to the spool directory (atomically: a
temporary file renamed into place), then POSTed as JSON lines.  A file leaves
the spool only when the collector's answer says its record was ``stored`` or
is an identical ``duplicate``; a record the collector refused (``quarantined``,
or a uid ``conflict``: someone else holds its uid with other content) moves to
``rejected/`` beside a ``.reason`` file, kept for a person to look at and never
resent in a loop.  An answer that says nothing about a record leaves it
spooled.  A run that starts with a non-empty spool submits the leftovers first.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from netvigil.probe.client import fetch
from netvigil.probe.net import Net

log = logging.getLogger(__name__)
BATCH = 50
ACCEPTED = frozenset({"stored", "duplicate"})  # the collector holds this very record: safe to delete
REFUSED = frozenset({"quarantined", "conflict"})  # kept by the collector in quarantine; kept here too
REJECTED = "rejected"
_HEADERS = (("Content-Type", "application/x-ndjson"),)


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._names = itertools.count()

    def add(self, measurement: dict[str, Any]) -> Path:
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(self._names):06d}.json"
        tmp = self.directory / f".{name}.tmp"
        tmp.write_bytes(orjson.dumps(measurement))
        return tmp.replace(self.directory / name)

    def pending(self) -> list[Path]:
        return sorted(self.directory.glob("*.json"))

    def reject(self, path: Path, reason: str) -> Path:
        """Keep a refused record out of the queue, with the collector's reason beside it."""
        folder = self.directory / REJECTED
        folder.mkdir(exist_ok=True)
        (folder / f"{path.name}.reason").write_text(reason + "\n", encoding="utf-8")
        return path.replace(folder / path.name)

    def rejected(self) -> list[Path]:
        return sorted((self.directory / REJECTED).glob("*.json"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Collector:
    url: str
    net: Net
    retries: int = 5
    backoff: float = 1.0   # seconds before the first retry; doubles each time
    timeout: float = 60.0

    async def drain(self, spool: Spool) -> int:
        """Submit everything spooled; returns how many were accepted.  Stops (leaving the
        rest spooled) when a batch still fails after every retry, or when the answer does
        not account for every record of the batch."""
        sent = 0
        while batch := spool.pending()[:BATCH]:
            statuses = await self._post(batch)
            if statuses is None:
                log.warning("collector %s unreachable; %d measurement(s) stay spooled", self.url,
                            len(spool.pending()))
                return sent
            settled = 0
            for path, (status, reason) in zip(batch, statuses, strict=True):
                if status in ACCEPTED:
                    path.unlink()
                    sent += 1
                    settled += 1
                elif status in REFUSED:
                    log.warning("collector refused %s (%s): %s", path.name, status, reason)
                    spool.reject(path, f"{status}: {reason}")
                    settled += 1
            if settled < len(batch):
                log.warning("collector %s did not account for %d record(s); they stay spooled", self.url,
                            len(batch) - settled)
                return sent
        return sent

    async def _post(self, batch: list[Path]) -> list[tuple[str | None, str]] | None:
        """Each record's (status, reason) from the collector's answer; None when it never answered 2xx."""
        body = b"".join(path.read_bytes() + b"\n" for path in batch)
        for attempt in range(self.retries + 1):
            fetched = await fetch(self.url, net=self.net, method="POST", headers=_HEADERS, body=body,
                                  timeout=self.timeout)
            if fetched.response is not None and 200 <= fetched.response.code < 300:
                return record_statuses(fetched.response.body, len(batch))
            reason = fetched.failure or f"HTTP {fetched.response.code if fetched.response else '?'}"
            log.info("collector attempt %d failed: %s", attempt + 1, reason)
            if attempt < self.retries:
                await asyncio.sleep(self.backoff * 2 ** attempt)
        return None


def record_statuses(body: bytes, count: int) -> list[tuple[str | None, str]]:
    """(status, reason) of lines 1..count in a collector's answer; (None, "") where it says nothing."""
    statuses: list[tuple[str | None, str]] = [(None, "")] * count
    try:
        records = orjson.loads(body).get("records")
    except (orjson.JSONDecodeError, AttributeError):
        return statuses
    for record in records if isinstance(records, list) else []:
        if not isinstance(record, dict) or not isinstance(record.get("position"), str):
            continue
        position = record["position"].removeprefix("line ")
        if position.isdigit() and 1 <= int(position) <= count and isinstance(record.get("status"), str):
            statuses[int(position) - 1] = (record["status"], str(record.get("reason") or ""))
    return statuses
