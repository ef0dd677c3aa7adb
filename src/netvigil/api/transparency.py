"""The collector's transparency log: signature checks on submission, appends, and the log's API.

Routes (read API, no key needed):

- ``GET /api/v1/log/head``: the latest signed tree head and the log's public key;
- ``GET /api/v1/log/status/{uid}``: signed or not, logged or not (imported data is neither);
- ``GET /api/v1/log/proof/{uid}?tree_size=N``: the entry and its inclusion proof;
- ``GET /api/v1/log/consistency?first=M&second=N``: both signed heads and the proof;
- ``GET /api/v1/log/evidence/{uid}``: an evidence bundle with the measurement's
  exact bytes, which ``netvigil verify`` checks offline.

A submitted measurement that carries a signature is checked before it is
stored: a signature that does not hold, or (with a trusted keys file) one by an
unknown key, puts the record in quarantine with the reason.  Stored records are
appended to the log after the store committed; if the process dies in between,
:func:`open_transparency` appends them at the next start, so no accepted
measurement stays out of the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, TypeVar

import duckdb
import orjson
from fastapi import APIRouter, Depends, Query, Request

from netvigil.api.context import limit_reads
from netvigil.api.errors import ApiError
from netvigil.api.settings import Settings
from netvigil.evidence.bundle import CONSISTENCY_FORMAT
from netvigil.evidence.records import LogEntry
from netvigil.evidence.signing import Keyring, MeasurementSignature, SignatureError, b64, verify_measurement
from netvigil.store import keys
from netvigil.store.database import Database
from netvigil.store.log import (
    LogError,
    LogView,
    MerkleLog,
    collected_unlogged,
    evidence_bundle,
    measurement_bytes,
)
from netvigil.store.sources import Quarantined, SourceRecord

log = logging.getLogger("netvigil.api.transparency")
router = APIRouter(prefix="/api/v1/log", tags=["transparency log"], dependencies=[Depends(limit_reads)])


C = TypeVar("C")  # the collector's validated record (item, uid, ...)


@dataclass(frozen=True, slots=True)
class Transparency:
    log: MerkleLog
    keyring: Keyring | None  # None: any key whose signature holds is accepted (and its id recorded)

    def check(self, checked: list[C]) -> tuple[list[C], dict[str, MeasurementSignature]]:
        """Quarantine records whose signature does not hold; the signatures of the others, by uid.

        ``checked`` holds the collector's validated records (``item`` and ``uid``);
        a record refused here comes back as its quarantine entry, without a uid.
        """
        out, signatures = [], {}
        for c in checked:
            item, uid = c.item, c.uid
            if uid is None or not isinstance(item, SourceRecord):
                out.append(c)
                continue
            try:
                signature = verify_measurement(item.obj if item.obj is not None else orjson.loads(item.data),
                                               self.keyring)
            except SignatureError as exc:
                reason = f"bad signature: {exc}"
                out.append(replace(c, item=Quarantined(item.source, item.position, reason, item.data,
                                                       "bad signature"), uid=None))
                continue
            if signature is not None:
                signatures[uid] = signature
            out.append(c)
        return out, signatures

    def append(self, stored: list[tuple[str, str]], signatures: dict[str, MeasurementSignature]) -> None:
        """Log the newly stored ``(uid, sha256)`` pairs (caller holds the write lock)."""
        self.log.remember_probe_keys({s.key_id: s.public_key for s in signatures.values()})
        self.log.append([entry(uid, sha, signatures.get(uid)) for uid, sha in stored])


def entry(uid: str, sha256: str, signature: MeasurementSignature | None) -> LogEntry:
    if signature is None:
        return LogEntry(uid=uid, sha256=sha256)
    return LogEntry(uid=uid, sha256=sha256, key_id=signature.key_id, content_sha256=signature.content_sha256.hex(),
                    signature=b64(signature.signature))


def log_key_path(settings: Settings) -> Path | None:
    if settings.log_key is not None:
        return settings.log_key
    if str(settings.db_path) == ":memory:":
        return None
    return settings.db_path.with_name(settings.db_path.name + ".log-key.pem")


def open_transparency(db: Database, settings: Settings) -> Transparency:
    """The log over the store, its key (created on first use, 0600), and the trusted probe keys."""
    path = log_key_path(settings)
    if path is None:
        from netvigil.evidence.signing import Signer

        signer = Signer.generate()
    else:
        signer, created = keys.load_or_create(path)
        if created:
            log.info("created the log's signing key %s (id %s)", path, signer.key_id)
    keyring = None
    if settings.probe_keys is not None:
        keyring = Keyring.parse(settings.probe_keys.read_text(encoding="utf-8"), str(settings.probe_keys))
    with db.write() as (con, _):
        merkle_log = MerkleLog(con, signer)
        transparency = Transparency(merkle_log, keyring)
        _catch_up(con, transparency)
    return transparency


def _catch_up(con: duckdb.DuckDBPyConnection, transparency: Transparency) -> None:
    missing = collected_unlogged(con)
    if not missing:
        return
    log.warning("appending %d stored measurement(s) that a crash kept out of the log", len(missing))
    entries, keys_seen = [], {}
    for uid, sha, raw in missing:
        try:
            signature = verify_measurement(orjson.loads(raw), None)
        except (SignatureError, orjson.JSONDecodeError):
            signature = None
        if signature is not None:
            keys_seen[signature.key_id] = signature.public_key
        entries.append(entry(uid, sha, signature))
    transparency.log.remember_probe_keys(keys_seen)
    transparency.log.append(entries)


# --- routes ---------------------------------------------------------------------------------------


def _view(request: Request) -> tuple[Database, Transparency]:
    return request.app.state.ctx.db, request.app.state.transparency


@router.get("/head", summary="The latest signed tree head")
def head(request: Request) -> dict[str, Any]:
    db, transparency = _view(request)
    with db.read() as cur:
        latest = LogView(cur, transparency.log.cache).latest_head()
    if latest is None:
        raise ApiError(404, "empty_log", "the log holds no measurement yet")
    return {"tree_head": latest.to_dict(), "log_public_key": b64(transparency.log.signing_key)}


@router.get("/status/{uid}", summary="Whether a stored measurement is signed and logged")
def status(request: Request, uid: str) -> dict[str, Any]:
    """Imported data (OONI's, or any file read by ``netvigil ingest``) is stored but unsigned and unlogged."""
    db, transparency = _view(request)
    with db.read() as cur:
        found = LogView(cur, transparency.log.cache).find(uid)
        stored = found is not None or measurement_bytes(cur, uid) is not None
    if not stored:
        raise ApiError(404, "not_found", f"no measurement {uid[:80]!r} is stored")
    if found is None:
        return {"uid": uid, "signed": False, "logged": False,
                "note": "imported or collected before the log: unsigned, and not in the transparency log"}
    return {"uid": uid, "signed": found.entry.signed, "logged": True, "leaf_index": found.index,
            "key_id": found.entry.key_id}


@router.get("/proof/{uid}", summary="Inclusion proof of one measurement")
def proof(request: Request, uid: str,
          tree_size: Annotated[int | None, Query(ge=1, description="default: the latest head's")] = None
          ) -> dict[str, Any]:
    db, transparency = _view(request)
    with db.read() as cur:
        view = LogView(cur, transparency.log.cache)
        found, size, path = _proof(view, uid, tree_size)
        signed = view.head_at(size)
    return {"uid": uid, "leaf_index": found.index, "tree_size": size, "entry": found.entry.to_dict(),
            "inclusion_proof": [h.hex() for h in path], "tree_head": None if signed is None else signed.to_dict()}


@router.get("/consistency", summary="Consistency proof between two tree sizes")
def consistency(request: Request, first: Annotated[int, Query(ge=1)], second: Annotated[int, Query(ge=1)]
                ) -> dict[str, Any]:
    db, transparency = _view(request)
    if first > second:
        raise ApiError(400, "bad_range", "first must not be larger than second")
    with db.read() as cur:
        view = LogView(cur, transparency.log.cache)
        heads = view.head_at(first), view.head_at(second)
        if None in heads:
            raise ApiError(404, "no_tree_head", "no signed tree head of that size was published")
        try:
            path = view.consistency_proof(first, second)
        except LogError as exc:
            raise ApiError(404, "no_such_tree", str(exc)) from None
    return {"format": CONSISTENCY_FORMAT, "log_public_key": b64(transparency.log.signing_key),
            "first": heads[0].to_dict(), "second": heads[1].to_dict(),  # type: ignore[union-attr]
            "proof": [h.hex() for h in path]}


@router.get("/evidence/{uid}", summary="An evidence bundle for one measurement (for `netvigil verify`)")
def evidence(request: Request, uid: str) -> dict[str, Any]:
    db, transparency = _view(request)
    with db.read() as cur:
        bundle = evidence_bundle(cur, [uid], bodies=True, cache=transparency.log.cache)
    if bundle is None or not bundle.entries:
        raise ApiError(404, "not_logged", f"no measurement {uid[:80]!r} in the log")
    return bundle.to_dict()


def _proof(view: LogView, uid: str, tree_size: int | None) -> tuple[Any, int, list[bytes]]:
    found = view.find(uid)
    if found is None:
        raise ApiError(404, "not_logged", f"no measurement {uid[:80]!r} in the log")
    size = view.size if tree_size is None else tree_size
    if not found.index < size <= view.size:
        raise ApiError(404, "no_such_tree", f"the measurement is leaf {found.index}; no tree of {size} leaves holds it")
    return found, size, view.inclusion_proof(found.index, size)

