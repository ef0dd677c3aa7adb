"""Who may write, and how fast anyone may ask: API keys and token-bucket rate limits.

Keys are compared with :func:`hmac.compare_digest` against every configured key,
without stopping at the first match, so the time taken says nothing about which
key (or how much of one) was right.  Only a short hash of the key is ever stored
or logged, as the writer's identity.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass

from fastapi import Request

from netvigil.api.errors import ApiError

# Distinct clients remembered per limiter; beyond this, the idlest are forgotten (a full bucket).
MAX_TRACKED = 10_000


def key_id(key: str) -> str:
    """A writer's public identity: the first 12 hex digits of the key's SHA-256."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


class ApiKeys:
    def __init__(self, keys: tuple[str, ...]) -> None:
        self._keys = tuple(k.encode() for k in keys)

    @property
    def configured(self) -> bool:
        return bool(self._keys)

    def writer(self, request: Request) -> str:
        """The key id of a request's ``Authorization: Bearer KEY`` (or ``X-API-Key``); 401/403 otherwise."""
        if not self._keys:
            raise ApiError(403, "collector_disabled", "this server accepts no measurements: no API key is configured")
        given = _presented_key(request)
        if given is None:
            raise ApiError(401, "unauthorized", "an API key is required: send 'Authorization: Bearer KEY'",
                           headers={"WWW-Authenticate": "Bearer"})
        matched = False
        for key in self._keys:
            matched |= hmac.compare_digest(key, given)
        if not matched:
            raise ApiError(401, "unauthorized", "the API key is not valid", headers={"WWW-Authenticate": "Bearer"})
        return key_id(given.decode())


def _presented_key(request: Request) -> bytes | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip().encode()
    header = request.headers.get("x-api-key", "").strip()
    return header.encode() if header else None


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per client: ``rate`` requests a second on average, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int, *, what: str) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._what = what
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        """Take one token for ``client``, or refuse with 429 and when to retry."""
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.pop(client, None) or _Bucket(self._burst, now)
            bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
            bucket.updated = now
            self._buckets[client] = bucket  # re-inserted last: dict order is least recently used first
            if len(self._buckets) > MAX_TRACKED:
                del self._buckets[next(iter(self._buckets))]
            if bucket.tokens < 1:
                wait = (1 - bucket.tokens) / self._rate
                raise ApiError(429, "rate_limited", f"too many {self._what}: retry in {wait:.1f} s",
                               details={"retry_after_seconds": round(wait, 3)},
                               headers={"Retry-After": str(max(1, round(wait + 0.5)))})
            bucket.tokens -= 1


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
