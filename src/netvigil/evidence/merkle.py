"""The Merkle tree hash of RFC 9162 §2.1, its proofs and their verification.

Leaves are hashed as SHA-256(0x00 || data) and interior nodes as
SHA-256(0x01 || left || right), so a leaf can never pass for a node (the second
preimage attack on plain Merkle trees).  The tree of ``n`` leaves splits at the
largest power of two below ``n``; every left part is then a *complete* subtree:
an aligned block of 2**level leaves, named here by ``(level, index)``.

A store keeps the hash of every complete subtree (about two per leaf), so that
the hash of any range the proofs need is a fold over at most ``log2 n`` stored
nodes: :func:`complete_parts` names them, :func:`range_hash` folds them.  Proof
generation thus asks the store for O(log² n) nodes whatever the tree size,
instead of rehashing leaves.  Verification follows the algorithms of RFC 9162
§2.1.3.2 (inclusion) and §2.1.4.2 (consistency) step by step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
NodeKey = tuple[int, int]  # (level, index): leaves [index * 2**level, (index + 1) * 2**level)


class ProofError(ValueError):
    """A proof that does not prove what it claims; the message says why, for a person."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly below ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def complete_parts(start: int, end: int) -> list[NodeKey]:
    """The complete subtrees whose fold is MTH(D[start:end]), left to right.

    Valid for the ranges RFC 9162's recursion produces (``start`` aligned to a
    power of two at least ``end - start``): the binary digits of the size, largest first.
    """
    parts = []
    while start < end:
        level = (end - start).bit_length() - 1
        parts.append((level, start >> level))
        start += 1 << level
    return parts


def range_hash(start: int, end: int, nodes: Mapping[NodeKey, bytes]) -> bytes:
    """MTH(D[start:end]) from stored complete subtrees: a fold from the right."""
    if start == end:
        return EMPTY_ROOT
    hashes = [nodes[key] for key in complete_parts(start, end)]
    acc = hashes[-1]
    for left in reversed(hashes[:-1]):
        acc = node_hash(left, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form PATH(index, D[size]), bottom to top (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return ranges[::-1]


def consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form PROOF(old, D[new]), bottom to top (RFC 9162 §2.1.4.1)."""
    if not 0 <= old <= new:
        raise ProofError(f"no consistency proof from {old} to {new} leaves")
    if old in (0, new):
        return []
    ranges: list[tuple[int, int]] = []
    start, end, whole = 0, new, True
    while True:
        m = old - start
        if m == end - start:
            if not whole:
                ranges.append((start, end))
            break
        k = split_point(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, whole = start + k, False
    return ranges[::-1]


def nodes_needed(ranges: Iterable[tuple[int, int]]) -> set[NodeKey]:
    return {key for start, end in ranges for key in complete_parts(start, end)}


def hashes_for(ranges: Sequence[tuple[int, int]], nodes: Mapping[NodeKey, bytes]) -> list[bytes]:
    return [range_hash(start, end, nodes) for start, end in ranges]


@dataclass(frozen=True, slots=True)
class Tree:
    """A whole tree in memory: the reference the stored log is tested against, and small logs."""

    leaves: tuple[bytes, ...]

    def nodes(self) -> dict[NodeKey, bytes]:
        level_hashes = [leaf_hash(d) for d in self.leaves]
        nodes = {(0, i): h for i, h in enumerate(level_hashes)}
        level = 0
        while len(level_hashes) > 1:
            level_hashes = [node_hash(level_hashes[i], level_hashes[i + 1])
                            for i in range(0, len(level_hashes) - 1, 2)]
            level += 1
            nodes.update({(level, i): h for i, h in enumerate(level_hashes)})
        return nodes

    def root(self, size: int | None = None) -> bytes:
        return mth(self.leaves[: len(self.leaves) if size is None else size])


def mth(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) by the definition's recursion (the reference, for tests)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = split_point(len(leaves))
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) -----------------------------------------


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to; raises :class:`ProofError` for a malformed proof."""
    if not 0 <= index < size:
        raise ProofError(f"the proof claims leaf {index} of a tree of {size} leaves, which has no such leaf")
    _check_hashes(path, "inclusion proof")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofError(f"the inclusion proof has {len(path)} hashes, more than a tree of {size} leaves needs")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"the inclusion proof has {len(path)} hashes, too few for leaf {index} "
                         f"of a tree of {size} leaves (truncated?)")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes) -> None:
    got = root_from_inclusion(index, size, leaf, path)
    if got != root:
        raise ProofError(f"leaf {index} is not in the tree of {size} leaves with root {root.hex()}: "
                         f"its proof leads to {got.hex()} (the entry or the proof was changed)")


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Raise :class:`ProofError` unless the tree of ``old`` leaves is a prefix of the one of ``new``."""
    _check_hashes(proof, "consistency proof")
    if not 0 <= old <= new:
        raise ProofError(f"a tree of {old} leaves cannot be a prefix of one of {new}")
    if old == new or old == 0:
        if proof:
            raise ProofError(f"a consistency proof from {old} to {new} leaves must be empty; it has {len(proof)} hashes")
        if old == new and old_root != new_root:
            raise ProofError(f"two tree heads of {old} leaves with different roots: the log forked "
                             f"({old_root.hex()} vs {new_root.hex()})")
        return
    if not proof:
        raise ProofError(f"the consistency proof from {old} to {new} leaves is empty (truncated?)")
    path = list(proof)
    if old & (old - 1) == 0:  # old is a power of two: its root is the first node
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"the consistency proof from {old} to {new} leaves has too many hashes")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"the consistency proof from {old} to {new} leaves has too few hashes (truncated?)")
    if fr != old_root:
        raise ProofError(f"the tree of {new} leaves does not extend the tree head of {old} leaves "
                         f"(root {old_root.hex()}): the log was rewritten or forked")
    if sr != new_root:
        raise ProofError(f"the consistency proof does not lead to the root of the tree head of {new} leaves "
                         f"({new_root.hex()}): the log was rewritten or forked")


def _check_hashes(hashes: Sequence[bytes], what: str) -> None:
    for i, h in enumerate(hashes):
        if not isinstance(h, bytes) or len(h) != HASH_SIZE:
            raise ProofError(f"hash {i} of the {what} is not a {HASH_SIZE}-byte SHA-256 value")
