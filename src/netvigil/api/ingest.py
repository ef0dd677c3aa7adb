"""From a collector request body to durably stored measurements, one result per record.

Every record of a request ends as exactly one of ``stored``, ``duplicate``
(already held: acknowledged, since its uid is in the store) or ``quarantined``
(kept in the quarantine table with its reason, and reported back).  Results are
read back from the database after the store's transactions committed, so a
``stored`` answer is never given for a record that is not on disk.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.api import rollup
from netvigil.api.database import Database
from netvigil.api.errors import ApiError
from netvigil.api.transparency import Transparency
from netvigil.model.measurement import Measurement
from netvigil.store.sources import Item, Quarantined, check_record, decode_record, guarded

_CC = re.compile(r"^[A-Z]{2}$")
_ASN = re.compile(r"^AS[0-9]{1,10}$")
# OONI's fastpath distrusts start times more than an hour in the future (clock skew beyond that is a bug).
MAX_CLOCK_SKEW = timedelta(hours=1)
Status = Literal["stored", "duplicate", "quarantined"]


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


def validate(item: Item, now: datetime) -> tuple[Item, str | None]:
    """The item (or its quarantine entry) and the uid it will be stored under."""
    if isinstance(item, Quarantined):
        return item, None
    decoded = guarded(item, decode_record, item)
    if isinstance(decoded, Quarantined):
        return decoded, None
    problem = _envelope_problem(decoded, now)
    if problem is not None:
        return Quarantined(item.source, item.position, problem, item.data, problem.split(":")[0]), None
    return item, decoded.uid


def _envelope_problem(m: Measurement, now: datetime) -> str | None:
    """Why the collector refuses an envelope the store would accept (None when it is fine)."""
    if not _CC.match(m.probe_cc):
        return f"invalid probe_cc: {m.probe_cc[:40]!r} is not an ISO 3166-1 alpha-2 code"
    if not _ASN.match(m.probe_asn):
        return f"invalid probe_asn: {m.probe_asn[:40]!r} is not of the form AS<number>"
    try:
        start = datetime.strptime(m.measurement_start_time[:19].replace("T", " "), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return f"invalid measurement_start_time: {m.measurement_start_time[:40]!r}"
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
    uids = [uid for _, uid in checked if uid is not None]
    with db.write() as (con, store):
        store.ingest((item for item, _ in checked), fingerprints)
        held = {uid: (src, pos, sha) for uid, src, pos, sha in con.execute(
            "SELECT uid, source, position, sha256 FROM measurements WHERE uid IN (SELECT unnest(?::VARCHAR[]))",
            [uids]).fetchall()}
        reasons = dict(con.execute("SELECT position, reason FROM quarantine WHERE source = ?", [source]).fetchall())
        rollup.add(con, [uid for uid, (src, _, _) in held.items() if src == source])
        if transparency is not None:
            fresh = [u for u in dict.fromkeys(uid for _, uid in checked if uid) if u in held and held[u][0] == source]
            transparency.append([(uid, held[uid][2]) for uid in fresh], signatures)
    return [_result(item, uid, held, reasons) for item, uid in checked]


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
    counts = {status: sum(r.status == status for r in results) for status in ("stored", "duplicate", "quarantined")}
    return {"received": len(results), "stored": counts["stored"], "duplicates": counts["duplicate"],
            "quarantined": counts["quarantined"], "records": [r.to_dict() for r in results]}
