"""What every request handler needs, built once per process and kept on ``app.state``."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.store.database import Database
from netvigil.api.guard import ApiKeys, RateLimiter, client_address
from netvigil.api.settings import Settings


@dataclass(frozen=True, slots=True)
class Context:
    settings: Settings
    db: Database
    fingerprints: FingerprintDB
    keys: ApiKeys
    writes: RateLimiter
    reads: RateLimiter


def context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def limit_reads(request: Request) -> None:
    """Router dependency: one token of the client's read budget per request."""
    context(request).reads.check(client_address(request))
