"""``POST /api/v1/measurements``: probes hand in measurements, one (JSON) or many (JSONL).

The order of checks is cheapest first and never reads more than the limit:
key, rate, content type, declared length, then the body streamed with a cap.
The 200 goes back only after the store's transaction committed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect
from starlette.concurrency import run_in_threadpool

from netvigil.api.context import Context, context
from netvigil.api.errors import ApiError
from netvigil.api.ingest import ingest_records, new_source, split_body, summary

router = APIRouter(prefix="/api/v1", tags=["collector"])
JSON_TYPES = frozenset({"application/json"})
LONE_STATUS = {"quarantined": 422, "conflict": 409}  # a lone record's refusal; a batch answers 200 per record
JSONL_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/jsonlines"})
_RESULT_SCHEMA = {"type": "object", "properties": {
    "received": {"type": "integer"}, "stored": {"type": "integer"}, "duplicates": {"type": "integer"},
    "quarantined": {"type": "integer"},
    "conflicts": {"type": "integer"},
    "records": {"type": "array", "items": {"type": "object", "properties": {
        "position": {"type": "string"}, "status": {"enum": ["stored", "duplicate", "conflict", "quarantined"]},
        "uid": {"type": "string"}, "sha256": {"type": "string"}, "reason": {"type": "string"}}}}}}
_OPENAPI = {
    "requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "object", "description": "one OONI-format measurement"}},
        "application/x-ndjson": {"schema": {"type": "string", "description": "one measurement per line"}}}},
    "responses": {"200": {"description": "every record stored, duplicate or quarantined",
                          "content": {"application/json": {"schema": _RESULT_SCHEMA}}}},
}


@router.post("/measurements", openapi_extra=_OPENAPI, response_class=JSONResponse,
             summary="Submit measurements (API key required)",
             responses={401: {"description": "no or wrong API key"}, 413: {"description": "body or batch too large"},
                        409: {"description": "the one record's uid is held with other content"},
                        415: {"description": "not JSON or JSONL"}, 422: {"description": "the one record was refused"},
                        429: {"description": "rate limit exceeded"}})
async def submit(request: Request, ctx: Annotated[Context, Depends(context)]) -> JSONResponse:
    """A JSON body is one measurement; ``application/x-ndjson`` is a batch, one per line.

    A record that cannot be used is quarantined with its reason and reported in
    ``records``; in a batch the others are still stored (200), a lone record
    that is refused answers 422.  A record whose uid is already held with other
    content is a ``conflict`` (a lone one answers 409): both are kept in
    quarantine with their SHA-256, neither is dropped as a duplicate.
    """
    writer = ctx.keys.writer(request)
    ctx.writes.check(writer)
    batch = _is_batch(request.headers.get("content-type", ""))
    body = await _read_capped(request, ctx.settings.max_body_bytes)
    items = split_body(new_source(writer), body, batch=batch, max_records=ctx.settings.max_batch_records)
    results = await run_in_threadpool(ingest_records, ctx.db, items, ctx.fingerprints,
                                      request.app.state.transparency)
    status = 200 if batch else LONE_STATUS.get(results[0].status, 200)
    return JSONResponse(summary(results), status_code=status)


def _is_batch(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    if media in JSON_TYPES:
        return False
    if media in JSONL_TYPES:
        return True
    raise ApiError(415, "unsupported_media_type",
                   "send one measurement as application/json or a batch as application/x-ndjson")


async def _read_capped(request: Request, limit: int) -> bytes:
    """The body, refusing (413) as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise _too_large(limit)
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect as exc:  # gone, or cut off by serve's body timeout: nothing to store
        raise ApiError(408, "request_timeout", "the body did not arrive in full") from exc
    return b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"the body is over the {limit:,}-byte limit; split the batch")
