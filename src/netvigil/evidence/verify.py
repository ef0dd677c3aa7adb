"""Checking evidence offline: signatures, inclusion proofs, tree heads and consistency.

Every check gives a :class:`Finding` whose message a person can act on: what was
checked, and if it failed, what that means ("changed after it was signed",
"the log was forked").  Nothing here raises for bad evidence; a malformed input
is a failed finding too, so one bad entry does not hide the verdicts on the others.

Trust is explicit.  The log's public key and the probes' keys come from the
caller when they have them (``log_key``, ``keyring``); otherwise the keys the
evidence names are used and :func:`trust_notes` says so, because a forger can
name their own keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from netvigil.evidence import merkle
from netvigil.evidence.bundle import Bundle, Cited
from netvigil.evidence.merkle import ProofError
from netvigil.evidence.records import EvidenceError, TreeHead
from netvigil.evidence.signing import (
    MEASUREMENT_CONTEXT,
    Keyring,
    SignatureError,
    check_signature,
    signature_of,
    unb64,
    verify_measurement,
)


@dataclass(frozen=True, slots=True)
class Finding:
    subject: str    # "tree head", "measurement <uid>", "line 3" ...
    ok: bool
    message: str


@dataclass(frozen=True, slots=True)
class Verification:
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok]


def verify_bundle(bundle: Bundle, *, log_key: bytes | None = None, keyring: Keyring | None = None) -> Verification:
    """The tree head's signature, then each cited entry: inclusion, signature, and body if present."""
    findings = [_head_finding(bundle.tree_head, log_key or bundle.log_public_key)]
    head_ok = findings[0].ok
    for cited in bundle.entries:
        findings.extend(_entry_findings(cited, bundle, keyring, head_ok))
    return Verification(tuple(findings))


def _head_finding(head: TreeHead, log_key: bytes) -> Finding:
    try:
        head.verify(log_key)
    except EvidenceError as exc:
        return Finding("tree head", False, f"the tree head of {head.tree_size} leaves does not hold: {exc}")
    return Finding("tree head", True, f"tree head of {head.tree_size:,} leaves, root {head.root_hash.hex()[:16]}…, "
                                      f"signed by log key {head.log_key_id[:16]}…")


def _entry_findings(cited: Cited, bundle: Bundle, keyring: Keyring | None, head_ok: bool) -> list[Finding]:
    head = bundle.tree_head
    entry = cited.entry
    subject = f"measurement {entry.uid}"
    findings = []
    try:
        merkle.verify_inclusion(cited.leaf_index, head.tree_size, entry.leaf_hash(), cited.inclusion_proof,
                                head.root_hash)
        where = f"in the log at position {cited.leaf_index:,} of {head.tree_size:,}"
        findings.append(Finding(subject, head_ok, where if head_ok else f"{where}, but the tree head does not hold"))
    except ProofError as exc:
        findings.append(Finding(subject, False, f"not proven to be in the log: {exc}"))
    findings.append(_entry_signature(subject, cited, bundle, keyring))
    if cited.measurement is not None:
        findings.extend(_body_findings(subject, cited, keyring))
    return findings


def _entry_signature(subject: str, cited: Cited, bundle: Bundle, keyring: Keyring | None) -> Finding:
    entry = cited.entry
    if not entry.signed:
        return Finding(subject, True, "unsigned (collected without a probe signature, or imported)")
    try:
        if entry.content_sha256 is None or entry.signature is None:
            raise SignatureError("the log entry names a key but holds no signature or content hash")
        public = _public_key(entry.key_id, cited, bundle, keyring)
        message = MEASUREMENT_CONTEXT + bytes.fromhex(entry.content_sha256)
        check_signature(public, unb64(entry.signature, "the signature"), message, what=subject, keyring=keyring)
    except (SignatureError, ValueError) as exc:
        return Finding(subject, False, f"signature does not hold: {exc}")
    return Finding(subject, True, f"signed by probe key {entry.key_id[:16]}…" if entry.key_id else "signed")


def _public_key(kid: str | None, cited: Cited, bundle: Bundle, keyring: Keyring | None) -> bytes:
    if keyring is not None and kid in keyring:
        return keyring.keys[kid]  # type: ignore[index]
    if kid in bundle.probe_keys:
        return bundle.probe_keys[kid]  # type: ignore[index]  # check_signature still applies the keyring
    if cited.measurement is not None:
        member = signature_of(orjson.loads(cited.measurement)) or {}
        return unb64(member.get("public_key"), "the signature's public key")
    if keyring is not None:
        raise SignatureError(f"signed by key {str(kid)[:16]}…, which is not among the trusted keys: "
                             "it may come from an impostor probe")
    raise SignatureError(f"signed by key {str(kid)[:16]}…, but no public key for it was given (pass the probe keys)")


def _body_findings(subject: str, cited: Cited, keyring: Keyring | None) -> list[Finding]:
    body = cited.measurement or b""
    entry = cited.entry
    if hashlib.sha256(body).hexdigest() != entry.sha256:
        return [Finding(subject, False, "its bytes no longer match the SHA-256 the log holds for it: "
                                        "the measurement was changed after it was collected")]
    return [Finding(subject, True, "its bytes match the SHA-256 in the log")] + \
        [f for f in [_measurement_finding(subject, body, keyring, entry.content_sha256)] if f is not None]


def _measurement_finding(subject: str, body: bytes, keyring: Keyring | None,
                         logged_content: str | None) -> Finding | None:
    try:
        obj = orjson.loads(body)
        checked = verify_measurement(obj, keyring)
    except orjson.JSONDecodeError as exc:
        return Finding(subject, False, f"is not JSON: {exc}")
    except SignatureError as exc:
        return Finding(subject, False, f"signature does not hold: {exc}")
    if checked is None:
        return None
    if logged_content is not None and checked.content_sha256.hex() != logged_content:
        return Finding(subject, False, "its signed content differs from what the log recorded")
    return None


def verify_measurements(records: Iterable[tuple[str, Any]], keyring: Keyring | None) -> Verification:
    """Signatures of plain measurements (``(position, parsed JSON)`` pairs), e.g. a probe's output file."""
    findings = []
    for position, obj in records:
        uid = obj.get("measurement_uid") if isinstance(obj, dict) else None
        subject = f"{position}" + (f" ({uid})" if uid else "")
        if not isinstance(obj, dict):
            findings.append(Finding(subject, False, "is not a JSON object"))
            continue
        try:
            checked = verify_measurement(obj, keyring)
        except SignatureError as exc:
            findings.append(Finding(subject, False, f"signature does not hold: {exc}"))
            continue
        if checked is None:
            findings.append(Finding(subject, True, "unsigned: no netvigil signature (e.g. imported OONI data); "
                                                   "nothing to check"))
        else:
            findings.append(Finding(subject, True, f"signature holds, probe key {checked.key_id[:16]}…, "
                                                   f"content SHA-256 {checked.content_sha256.hex()[:16]}…"))
    return Verification(tuple(findings))


def verify_heads(first: TreeHead, second: TreeHead, proof: Sequence[bytes], *, log_key: bytes) -> Verification:
    """Both heads signed by the log, and the second extends the first (no fork, no rewrite)."""
    old, new = sorted((first, second), key=lambda h: h.tree_size)
    findings = [_head_finding(old, log_key), _head_finding(new, log_key)]
    try:
        merkle.verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof)
        findings.append(Finding("log", True, f"the tree of {new.tree_size:,} leaves extends the one of "
                                             f"{old.tree_size:,}: one consistent history"))
    except ProofError as exc:
        findings.append(Finding("log", False, f"the two tree heads are not one history: {exc}"))
    return Verification(tuple(findings))
