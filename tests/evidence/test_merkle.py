"""The Merkle tree of RFC 9162 §2.1: stored-subtree proofs against the definitions, over random trees."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netvigil.evidence import merkle
from netvigil.evidence.merkle import ProofError, Tree


def path_by_definition(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) exactly as RFC 9162 §2.1.3.1 writes it (the oracle)."""
    if len(leaves) == 1:
        return []
    k = merkle.split_point(len(leaves))
    if m < k:
        return path_by_definition(m, leaves[:k]) + [merkle.mth(leaves[k:])]
    return path_by_definition(m - k, leaves[k:]) + [merkle.mth(leaves[:k])]


def proof_by_definition(m: int, leaves: list[bytes], whole: bool = True) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if whole else [merkle.mth(leaves)]
    k = merkle.split_point(n)
    if m <= k:
        return proof_by_definition(m, leaves[:k], whole) + [merkle.mth(leaves[k:])]
    return proof_by_definition(m - k, leaves[k:], False) + [merkle.mth(leaves[:k])]


def leaves_of(n: int) -> list[bytes]:
    return [f"leaf {i}".encode() for i in range(n)]


trees = st.integers(min_value=1, max_value=300).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(0, n - 1)))
pairs = st.integers(min_value=1, max_value=300).flatmap(
    lambda n: st.tuples(st.integers(1, n), st.just(n)))


def test_known_roots() -> None:
    """The empty tree and one leaf, by hand from the definition."""
    assert merkle.mth([]) == hashlib.sha256(b"").digest()
    assert merkle.mth([b"a"]) == hashlib.sha256(b"\x00a").digest()
    two = hashlib.sha256(b"\x01" + hashlib.sha256(b"\x00a").digest() + hashlib.sha256(b"\x00b").digest()).digest()
    assert merkle.mth([b"a", b"b"]) == two


@settings(max_examples=300)
@given(trees)
def test_stored_inclusion_proof_is_rfc_path_and_verifies(case: tuple[int, int]) -> None:
    n, m = case
    leaves = leaves_of(n)
    nodes = Tree(tuple(leaves)).nodes()
    path = merkle.hashes_for(merkle.inclusion_ranges(m, n), nodes)
    assert path == path_by_definition(m, leaves)
    root = merkle.range_hash(0, n, nodes)
    assert root == merkle.mth(leaves)
    merkle.verify_inclusion(m, n, merkle.leaf_hash(leaves[m]), path, root)


@settings(max_examples=300)
@given(pairs)
def test_stored_consistency_proof_is_rfc_proof_and_verifies(case: tuple[int, int]) -> None:
    old, new = case
    leaves = leaves_of(new)
    nodes = Tree(tuple(leaves)).nodes()
    proof = merkle.hashes_for(merkle.consistency_ranges(old, new), nodes)
    assert proof == (proof_by_definition(old, leaves) if old < new else [])
    merkle.verify_consistency(old, new, merkle.mth(leaves[:old]), merkle.mth(leaves), proof)


@settings(max_examples=200)
@given(trees, st.data())
def test_any_changed_proof_hash_is_detected(case: tuple[int, int], data: st.DataObject) -> None:
    n, m = case
    leaves = leaves_of(n)
    path = path_by_definition(m, leaves)
    root = merkle.mth(leaves)
    leaf = merkle.leaf_hash(leaves[m])
    if path:
        i = data.draw(st.integers(0, len(path) - 1))
        bad = path[:i] + [bytes(32)] + path[i + 1:]
        with pytest.raises(ProofError, match="not in the tree"):
            merkle.verify_inclusion(m, n, leaf, bad, root)
        with pytest.raises(ProofError, match="too few"):
            merkle.verify_inclusion(m, n, leaf, path[:-1], root)
    other = data.draw(st.integers(0, n - 1))
    if merkle.leaf_hash(leaves[other]) != leaf:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(m, n, merkle.leaf_hash(leaves[other]), path, root)


@settings(max_examples=200)
@given(pairs)
def test_forked_log_fails_consistency(case: tuple[int, int]) -> None:
    """A log that rewrote any leaf below ``old`` cannot prove it extends the old head."""
    old, new = case
    leaves = leaves_of(new)
    forked = [b"rewritten"] + leaves[1:]
    nodes = Tree(tuple(forked)).nodes()
    proof = merkle.hashes_for(merkle.consistency_ranges(old, new), nodes)
    with pytest.raises(ProofError, match="forked|rewritten"):
        merkle.verify_consistency(old, new, merkle.mth(leaves[:old]), merkle.mth(forked), proof)


@settings(max_examples=100)
@given(pairs)
def test_truncated_consistency_proof_is_detected(case: tuple[int, int]) -> None:
    old, new = case
    leaves = leaves_of(new)
    proof = proof_by_definition(old, leaves) if old < new else []
    if proof:
        with pytest.raises(ProofError):
            merkle.verify_consistency(old, new, merkle.mth(leaves[:old]), merkle.mth(leaves), proof[:-1])


def test_proof_messages_for_impossible_claims() -> None:
    with pytest.raises(ProofError, match="no such leaf"):
        merkle.root_from_inclusion(5, 5, bytes(32), [])
    with pytest.raises(ProofError, match="32-byte"):
        merkle.root_from_inclusion(0, 2, bytes(32), [b"short"])
    with pytest.raises(ProofError, match="forked"):
        merkle.verify_consistency(4, 4, bytes(32), b"\x01" * 32, [])
    with pytest.raises(ProofError, match="more than a tree"):
        merkle.root_from_inclusion(0, 1, bytes(32), [bytes(32)])
