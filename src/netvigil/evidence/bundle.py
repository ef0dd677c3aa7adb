"""The evidence bundle: what a reader needs to check measurements offline, as one JSON document.

::

    {"format": "netvigil-evidence/1",
     "log_public_key": "<base64>", "tree_head": {...signed tree head...},
     "probe_keys": {"<key id>": "<base64 public key>", ...},
     "entries": [{"leaf_index": 7, "entry": {...log entry...},
                  "inclusion_proof": ["<hex>", ...], "measurement": "<exact JSON text, optional>"}]}

The API hands one out per measurement (with the measurement's exact bytes) and
reports embed one for every measurement they cite (without the bodies, which
the reader can fetch by uid and check against ``sha256``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from netvigil.evidence.records import EvidenceError, LogEntry, TreeHead
from netvigil.evidence.signing import b64, unb64

FORMAT = "netvigil-evidence/1"
CONSISTENCY_FORMAT = "netvigil-consistency/1"


@dataclass(frozen=True, slots=True, kw_only=True)
class Cited:
    leaf_index: int
    entry: LogEntry
    inclusion_proof: tuple[bytes, ...]
    measurement: bytes | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"leaf_index": self.leaf_index, "entry": self.entry.to_dict(),
                               "inclusion_proof": [h.hex() for h in self.inclusion_proof]}
        if self.measurement is not None:
            out["measurement"] = self.measurement.decode("utf-8")
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Bundle:
    log_public_key: bytes
    tree_head: TreeHead
    entries: tuple[Cited, ...]
    probe_keys: Mapping[str, bytes] = field(default_factory=dict)  # as the log recorded them: not trust

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "log_public_key": b64(self.log_public_key), "tree_head": self.tree_head.to_dict(),
                "probe_keys": {kid: b64(pub) for kid, pub in sorted(self.probe_keys.items())},
                "entries": [c.to_dict() for c in self.entries]}


def make_bundle(log_public_key: bytes, head: TreeHead, cited: Sequence[Cited],
                probe_keys: Mapping[str, bytes] | None = None) -> Bundle:
    return Bundle(log_public_key=log_public_key, tree_head=head, entries=tuple(cited), probe_keys=probe_keys or {})


def parse_bundle(obj: Any) -> Bundle:
    """A bundle from its JSON form; :class:`EvidenceError` says what is missing or malformed."""
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise EvidenceError(f"not a netvigil evidence bundle (expected \"format\": \"{FORMAT}\")")
    entries = obj.get("entries")
    if not isinstance(entries, list):
        raise EvidenceError("the evidence bundle has no list of entries")
    keys = obj.get("probe_keys") or {}
    if not isinstance(keys, dict):
        raise EvidenceError("the bundle's probe_keys is not an object of key id -> public key")
    return Bundle(log_public_key=unb64(obj.get("log_public_key"), "the log public key"),
                  tree_head=TreeHead.from_dict(obj.get("tree_head")),
                  entries=tuple(_cited(e, n) for n, e in enumerate(entries)),
                  probe_keys={str(k): unb64(v, f"probe key {str(k)[:16]}") for k, v in keys.items()})


def _cited(obj: Any, n: int) -> Cited:
    if not isinstance(obj, dict):
        raise EvidenceError(f"entry {n} of the bundle is not an object")
    proof = obj.get("inclusion_proof")
    if not isinstance(proof, list) or not all(isinstance(h, str) for h in proof):
        raise EvidenceError(f"entry {n} of the bundle has no inclusion proof")
    try:
        hashes = tuple(bytes.fromhex(h) for h in proof)
        index = int(obj["leaf_index"])
    except (KeyError, TypeError, ValueError):
        raise EvidenceError(f"entry {n} of the bundle has a malformed leaf index or proof hash") from None
    text = obj.get("measurement")
    return Cited(leaf_index=index, entry=LogEntry.from_dict(obj.get("entry")), inclusion_proof=hashes,
                 measurement=text.encode("utf-8") if isinstance(text, str) else None)
