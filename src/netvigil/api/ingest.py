"""From a collector request body to durably stored measurements, one result per record.

Every record of a request ends as exactly one of ``stored``, ``duplicate``
(already held with the same content: acknowledged), ``conflict`` (its uid is
held with *other* content: both are kept in quarantine with their SHA-256, so
whoever took a uid first cannot make the genuine record vanish as a
"duplicate") or ``quarantined`` (kept in the quarantine table with its reason,
and reported back).  Results are read back from the database after the store's
transactions committed, so a ``stored`` answer is never given for a record that
is not on disk.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.api.errors import ApiError
from netvigil.api.transparency import Transparency
from netvigil.engine import pipeline
from netvigil.model.measurement import Measurement, derive_uid
from netvigil.model.uid import submitted_uid_problem
from netvigil.store import explorer, queries, rollup
from netvigil.store.database import Database
from netvigil.store.db import decompress_raw
from netvigil.store.sources import Item, Quarantined, SourceRecord, check_record, decode_record, guarded

_CC = re.compile(r"^[A-Z]{2}$")
_ASN = re.compile(r"^AS[0-9]{1,10}$")
# OONI's fastpath distrusts start times more than an hour in the future (clock skew beyond that is a bug).
MAX_CLOCK_SKEW = timedelta(hours=1)
Status = Literal["stored", "duplicate", "conflict", "quarantined"]
UID_CONFLICT = "uid conflict"


@dataclass(frozen=True, slots=True)
class RecordResult:
    position: str
    status: Status
    uid: str | None = None
    sha256: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("position", self.position), ("status", self.status), ("uid", self.uid),
                                  ("sha256", self.sha256), ("reason", self.reason)) if v is not None}


def new_source(writer: str) -> str:
    """Provenance of one request's records: the writer's key id, the time and a nonce."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"api:{writer}:{stamp}:{secrets.token_hex(4)}"


def split_body(source: str, body: bytes, *, batch: bool, max_records: int) -> list[Item]:
    """One record for a JSON body; one per non-blank line for JSONL (positions ``line N``)."""
    if not body.strip():
        raise ApiError(400, "empty_body", "the request body holds no measurement")
    if not batch:
        return [check_record(source, "body", body.strip())]
    items = [check_record(source, f"line {n}", line.rstrip(b"\r"))
             for n, line in enumerate(body.split(b"\n"), start=1) if line.strip()]
    if len(items) > max_records:
        raise ApiError(413, "batch_too_large", f"{len(items):,} records in one batch; at most {max_records:,}")
    return items


@dataclass(frozen=True, slots=True)
class Checked:
    """One record after validation: the item (or its quarantine entry), its uid and content digest."""

    item: Item
    uid: str | None = None
    content: str | None = None  # SHA-256 of the measurement's canonical JSON: same content, same digest


def validate(item: Item, now: datetime) -> Checked:
    """The item (or its quarantine entry), the uid it will be stored under and its content digest."""
    if isinstance(item, Quarantined):
        return Checked(item)
    decoded = guarded(item, decode_record, item)
    if isinstance(decoded, Quarantined):
        return Checked(decoded)
    problem = _envelope_problem(decoded, now)
    if problem is not None:
        return Checked(Quarantined(item.source, item.position, problem, item.data, problem.split(":")[0]))
    return Checked(item, decoded.uid, content_digest(decoded))


def content_digest(m: Measurement) -> str:
    """What "the same measurement" means for a uid: equal objects, whatever their whitespace or key order."""
    return hashlib.sha256(orjson.dumps(m.raw, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)).hexdigest()


def _envelope_problem(m: Measurement, now: datetime) -> str | None:
    """Why the collector refuses an envelope the store would accept (None when it is fine)."""
    if m.uid != derive_uid(m.raw):  # a uid the submitter chose: one of the shapes OONI or we give out
        uid_problem = submitted_uid_problem(m.uid)
        if uid_problem is not None:
            return uid_problem
    if not _CC.match(m.probe_cc):
        return f"invalid probe_cc: {m.probe_cc[:40]!r} is not an ISO 3166-1 alpha-2 code"
    if not _ASN.match(m.probe_asn):
        return f"invalid probe_asn: {m.probe_asn[:40]!r} is not of the form AS<number>"
    start = m.start_time
    if start > now + MAX_CLOCK_SKEW:
        return f"measurement_start_time in the future: {start:%Y-%m-%d %H:%M:%S} is after the server's clock"
    return None


def ingest_records(db: Database, items: list[Item], fingerprints: FingerprintDB,
                   transparency: Transparency | None = None) -> list[RecordResult]:
    """Store what can be stored, quarantine the rest; return each record's fate once committed.

    With ``transparency``, signatures are checked first and the newly stored
    records are appended to the log (:mod:`netvigil.api.transparency`).
    """
    now = datetime.now(UTC).replace(tzinfo=None)
    checked = [validate(item, now) for item in items]
    signatures: dict[str, Any] = {}
    if transparency is not None:
        checked, signatures = transparency.check(checked)
    source = items[0].source
    uids = [c.uid for c in checked if c.uid is not None]
    with db.write() as (con, store):
        conflicts, kept_copies = _conflicts(checked, queries.held_with_raw(con, uids))
        to_store = [conflicts[c.item.position][1] if c.item.position in conflicts else c.item for c in checked]
        pipeline.ingest(store, [*to_store, *kept_copies], fingerprints)
        held = queries.held_measurements(con, uids)
        reasons = queries.quarantine_reasons(con, source)
        fresh = [uid for uid, (src, _, _) in held.items() if src == source]
        rollup.add(con, fresh)
        explorer.add(con, fresh)
        if transparency is not None:
            transparency.append([(uid, held[uid][2]) for uid in dict.fromkeys(fresh)], signatures)
    return [conflicts[c.item.position][0] if c.item.position in conflicts else _result(c.item, c.uid, held, reasons)
            for c in checked]


Held = dict[str, tuple[str, str, str, bytes]]  # uid -> source, position, sha256, raw bytes


def _conflicts(checked: list[Checked], held: Held) -> tuple[dict[str, tuple[RecordResult, Quarantined]],
                                                              list[Quarantined]]:
    """Records whose uid is already taken by other content (in the store, or earlier in this request).

    Returns, by position, the conflict's result and its quarantine entry, plus a
    quarantine copy of each record it conflicts with (which stays stored too).
    """
    first: dict[str, tuple[str, str, str, bytes]] = {}  # uid -> (content, source, position, data) in this request
    conflicts: dict[str, tuple[RecordResult, Quarantined]] = {}
    copies: list[Quarantined] = []
    for c in checked:
        if c.uid is None or not isinstance(c.item, SourceRecord):
            continue
        rec = c.item
        if c.uid in held:
            src, pos, sha, raw = held[c.uid]
            other = SourceRecord(src, pos, decompress_raw(raw))
            other_content = content_digest(decode_record(other))
        elif c.uid in first:
            other_content, src, pos, data = first[c.uid]
            other, sha = SourceRecord(src, pos, data), hashlib.sha256(data).hexdigest()
        else:
            first[c.uid] = (c.content or "", rec.source, rec.position, rec.data)
            continue
        if other_content == c.content:
            continue  # the same measurement again: an honest duplicate
        mine = hashlib.sha256(rec.data).hexdigest()
        reason = (f"{UID_CONFLICT}: {c.uid} is already held with other content (sha256 {sha}); "
                  f"this record has sha256 {mine}")
        conflicts[rec.position] = (RecordResult(rec.position, "conflict", uid=c.uid, sha256=mine, reason=reason),
                                   Quarantined(rec.source, rec.position, reason, rec.data, UID_CONFLICT))
        copies.append(Quarantined(other.source, other.position,
                                  f"{UID_CONFLICT}: {c.uid} (this record, sha256 {sha}) was submitted again with "
                                  f"other content (sha256 {mine}) at {rec.source} {rec.position}",
                                  other.data, UID_CONFLICT))
    return conflicts, copies


def _result(item: Item, uid: str | None, held: dict[str, tuple[str, str, str]],
            reasons: dict[str, str]) -> RecordResult:
    if uid is None or uid not in held:
        reason = item.reason if isinstance(item, Quarantined) else reasons.get(item.position)
        if reason is None:  # the store neither kept nor quarantined it: a bug, never an acknowledgement
            raise RuntimeError(f"record at {item.position} was neither stored nor quarantined")
        return RecordResult(item.position, "quarantined", reason=reason)
    source, position, sha256 = held[uid]
    fresh = source == item.source and position == item.position
    return RecordResult(item.position, "stored" if fresh else "duplicate", uid=uid, sha256=sha256)


def summary(results: list[RecordResult]) -> dict[str, Any]:
    counts = {status: sum(r.status == status for r in results)
              for status in ("stored", "duplicate", "conflict", "quarantined")}
    return {"received": len(results), "stored": counts["stored"], "duplicates": counts["duplicate"],
            "conflicts": counts["conflict"], "quarantined": counts["quarantined"],
            "records": [r.to_dict() for r in results]}
