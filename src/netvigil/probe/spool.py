"""Submission to a collector, with a local spool so that nothing is lost while offline.

Every measurement is first written to the spool directory (atomically: a
temporary file renamed into place), then POSTed as JSON lines; a file leaves
the spool only after the collector answered 2xx.  A run that starts with a
non-empty spool submits the leftovers first.
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Collector:
    url: str
    net: Net
    retries: int = 5
    backoff: float = 1.0   # seconds before the first retry; doubles each time
    timeout: float = 60.0

    async def drain(self, spool: Spool) -> int:
        """Submit everything spooled; returns how many were accepted.  Stops (leaving the
        rest spooled) when a batch still fails after every retry."""
        sent = 0
        while batch := spool.pending()[:BATCH]:
            if not await self._post(batch):
                log.warning("collector %s unreachable; %d measurement(s) stay spooled", self.url,
                            len(spool.pending()))
                return sent
            for path in batch:
                path.unlink()
            sent += len(batch)
        return sent

    async def _post(self, batch: list[Path]) -> bool:
        body = b"".join(path.read_bytes() + b"\n" for path in batch)
        for attempt in range(self.retries + 1):
            fetched = await fetch(self.url, net=self.net, method="POST", headers=_HEADERS, body=body,
                                  timeout=self.timeout)
            if fetched.response is not None and 200 <= fetched.response.code < 300:
                return True
            reason = fetched.failure or f"HTTP {fetched.response.code if fetched.response else '?'}"
            log.info("collector attempt %d failed: %s", attempt + 1, reason)
            if attempt < self.retries:
                await asyncio.sleep(self.backoff * 2 ** attempt)
        return False
