"""The ingest pipeline: records from a source, decoded once, analysed once, stored once.

This is the only place where the analysis meets the store.  The store persists
the rows it is given and knows nothing of rules; the analysis knows nothing of
tables.  The command line (``ingest``, ``analyze``, ``verdicts``), the collector
and the parallel engines all call these functions, so a measurement gets the same
verdict rows whichever way it arrives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.analysis.rules import RULES_VERSION
from netvigil.analysis.web import Analysis, analyze_measurement
from netvigil.model.measurement import Measurement
from netvigil.store.asn import default_asn_lookup
from netvigil.store.db import DOCUMENT_FIELDS, IngestSummary, Store, VerdictRows
from netvigil.store.sources import Item, Quarantined, SourceRecord, decode_record, encode_json, guarded

Progress = Callable[[int], None]


def verdict_rows(analysis: Analysis, fingerprints: FingerprintDB, now: datetime) -> VerdictRows:
    """The one verdict row shape: idx 0 is the summary, then the layer verdicts in order."""
    rows = []
    for idx, v in enumerate((analysis.summary, *analysis.verdicts)):
        rows.append({
            "uid": analysis.uid, "idx": idx, "is_summary": idx == 0, "layer": v.layer.value,
            "technique": v.technique.value, "outcome": v.outcome.value, "confidence": v.confidence,
            "rule": v.rule, "hostname": v.hostname, "depth": v.depth,
            "evidence": encode_json(v.evidence).decode(), "rules_version": RULES_VERSION,
            "fingerprints_version": fingerprints.version, "analysed_at": now,
        })
    return rows


def analyse_one(m: Measurement, fingerprints: FingerprintDB) -> Analysis:
    """The analysis, with IP-to-ASN lookups when ``$NETVIGIL_ASN_DB`` names a database."""
    asn = default_asn_lookup()
    return analyze_measurement(m, fingerprints) if asn is None else analyze_measurement(m, fingerprints, asn)


def analyser(fingerprints: FingerprintDB) -> Callable[[Measurement, datetime], VerdictRows]:
    """What the store calls for each decoded measurement (the analysis bound to a fingerprint set)."""
    def analyse(m: Measurement, now: datetime) -> VerdictRows:
        return verdict_rows(analyse_one(m, fingerprints), fingerprints, now)
    return analyse


def ingest(store: Store, records: Iterable[Item], fingerprints: FingerprintDB,
           progress: Progress | None = None) -> IngestSummary:
    """Decode, analyse and store records: read = stored + quarantined + duplicates."""
    return store.ingest(records, analyser(fingerprints), progress=progress)


def reanalyze(store: Store, fingerprints: FingerprintDB, progress: Progress | None = None) -> int:
    """Replace every stored measurement's verdicts after a rule or fingerprint change."""
    return store.reanalyze(analyser(fingerprints), progress=progress)


def verdict_document(m: Measurement, analysis: Analysis) -> dict[str, Any]:
    """The stable per-measurement shape of ``netvigil verdicts`` (other tools read it)."""
    doc: dict[str, Any] = {name: getattr(m, name) for name in DOCUMENT_FIELDS}
    doc["summary"] = analysis.summary.to_dict()
    doc["verdicts"] = [v.to_dict() for v in analysis.verdicts]
    return doc


def verdict_lines(records: Iterable[Item], fingerprints: FingerprintDB) -> Iterator[bytes | Quarantined]:
    """Analyse records without storing them: one JSON document per measurement."""
    def document(rec: SourceRecord) -> bytes:
        m = decode_record(rec)
        return encode_json(verdict_document(m, analyse_one(m, fingerprints)))

    for item in records:
        yield guarded(item, document, item) if isinstance(item, SourceRecord) else item
