"""``netvigil verify`` and ``netvigil keys``: argument parsing and printing only.

``verify`` exits 0 when every check held, 1 when any did not (each failure is
printed with what it means), 2 when the input cannot be read as evidence.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from netvigil.evidence.bundle import parse_bundle
from netvigil.evidence.records import EvidenceError, TreeHead
from netvigil.evidence.signing import Keyring, SignatureError, unb64
from netvigil.evidence.verify import Finding, Verification, verify_bundle, verify_heads, verify_measurements


def add_evidence_parsers(subparsers: Any) -> None:
    p = subparsers.add_parser("verify", help="Check signatures and log proofs offline (report, bundle, measurements).",
                              description="Check offline the signatures and transparency-log inclusion proofs of "
                                          "an HTML report, an evidence bundle (GET /api/v1/log/evidence/UID), a "
                                          "consistency proof (GET /api/v1/log/consistency) or a measurement file.")
    p.add_argument("path", type=Path, metavar="PATH")
    p.add_argument("--keys", type=Path, metavar="FILE",
                   help="trusted probe keys ('ed25519 BASE64 [comment]' lines); without it any key whose "
                        "signature holds is accepted and named")
    p.add_argument("--log-key", type=Path, metavar="FILE",
                   help="the observatory's log key (same format); without it the key in the evidence is used")
    p.add_argument("--quiet", action="store_true", help="print problems and the summary only")
    p.set_defaults(func=run_verify)
    k = subparsers.add_parser("keys", help="This probe's signing key: create it if needed, print its public line.",
                              description="Print the probe's public key line (for the collector's trusted keys "
                                          "file), creating the key (mode 0600) on first use.")
    k.add_argument("--key", type=Path, metavar="FILE", help="key file (default $NETVIGIL_PROBE_KEY or the XDG path)")
    k.set_defaults(func=run_keys)


def run_verify(args: argparse.Namespace) -> int:
    from netvigil.store.evidence_files import read_evidence_file

    try:
        keyring = _keyring(args.keys)
        log_keys = _keyring(args.log_key)
        found = read_evidence_file(args.path)
        result, notes = _verify(found, keyring, log_keys)
    except (OSError, EvidenceError, SignatureError) as exc:
        print(f"netvigil verify: {exc}", file=sys.stderr)
        return 2
    _print(result, args.quiet)
    for note in notes:
        print(f"note: {note}")
    problems = len(result.problems)
    print(f"{args.path}: {len(result.findings) - problems} check(s) held, {problems} failed"
          + ("" if problems else ": the evidence holds"))
    return 1 if problems else 0


def _verify(found: Any, keyring: Keyring | None, log_keys: Keyring | None) -> tuple[Verification, list[str]]:
    notes = []
    if keyring is None and found.kind != "consistency":
        notes.append("no --keys given: signatures were checked against the keys the evidence names; "
                     "confirm those key ids with the probes' operators")
    if found.kind == "measurements":
        result = verify_measurements(found.records, keyring)
        extra = tuple(Finding(where, False, f"could not be read: {why}") for where, _, why in
                      (u.partition(": ") for u in found.unreadable))
        notes.append("a measurement file carries no inclusion proofs; verify the evidence bundle of each "
                     "measurement (GET /api/v1/log/evidence/UID) to check it is in the log")
        return Verification(result.findings + extra), notes
    doc = found.document
    if found.kind == "consistency":
        first, second = TreeHead.from_dict(doc.get("first")), TreeHead.from_dict(doc.get("second"))
        key = _log_key(log_keys, first.log_key_id, doc.get("log_public_key"), notes)
        proof = [bytes.fromhex(h) for h in doc.get("proof") or []]
        return verify_heads(first, second, proof, log_key=key), notes
    bundle = parse_bundle(doc)
    key = _log_key(log_keys, bundle.tree_head.log_key_id, doc.get("log_public_key"), notes)
    return verify_bundle(bundle, log_key=key, keyring=keyring), notes


def _log_key(log_keys: Keyring | None, kid: str, embedded: Any, notes: list[str]) -> bytes:
    if log_keys is None:
        notes.append(f"no --log-key given: the tree head was checked against the log key the evidence carries "
                     f"(id {kid}); compare it with the one the observatory publishes")
        return unb64(embedded, "the log public key")
    if kid not in log_keys:
        raise EvidenceError(f"the tree head is signed by log key {kid[:16]}…, which is not the log key you trust: "
                            "this evidence does not come from that observatory's log")
    return log_keys.keys[kid]


def _keyring(path: Path | None) -> Keyring | None:
    return None if path is None else Keyring.parse(path.read_text(encoding="utf-8"), str(path))


def _print(result: Verification, quiet: bool) -> None:
    for f in result.findings:
        if not f.ok or not quiet:
            print(f"{'ok  ' if f.ok else 'FAIL'} {f.subject}: {f.message}")


def run_keys(args: argparse.Namespace) -> int:
    from netvigil.store.keys import KeyFileError, default_probe_key_path, load_or_create

    path = args.key or default_probe_key_path()
    try:
        signer, created = load_or_create(path)
    except (OSError, KeyFileError) as exc:
        print(f"netvigil keys: {exc}", file=sys.stderr)
        return 1
    if created:
        print(f"created {path} (mode 0600)", file=sys.stderr)
    print(signer.key_line(f"key_id={signer.key_id}"))
    return 0
