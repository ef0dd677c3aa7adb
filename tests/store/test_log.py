"""The stored transparency log: same tree as the definition, survives restarts and SIGKILL mid-append."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netvigil.evidence import merkle
from netvigil.evidence.records import LogEntry
from netvigil.evidence.signing import Signer
from netvigil.store.log import LogView, MerkleLog

SIGNER = Signer.generate()


def entries(start: int, count: int) -> list[LogEntry]:
    return [LogEntry(uid=f"uid-{i}", sha256=f"{i:064x}") for i in range(start, start + count)]


def leaf_data(n: int) -> list[bytes]:
    return [e.leaf_data() for e in entries(0, n)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(1, 40), min_size=1, max_size=8), st.data())
def test_batched_appends_give_the_rfc_tree_and_proofs(batches: list[int], data: st.DataObject) -> None:
    con = duckdb.connect(":memory:")
    log = MerkleLog(con, SIGNER)
    size = 0
    for count in batches:
        head = log.append(entries(size, count))
        size += count
        assert head is not None and head.tree_size == size
        assert head.root_hash == merkle.mth(leaf_data(size)) == log.root(size)
        head.verify(SIGNER.public_key)
    index = data.draw(st.integers(0, size - 1))
    at = data.draw(st.integers(index + 1, size))
    path = log.inclusion_proof(index, at)
    merkle.verify_inclusion(index, at, entries(index, 1)[0].leaf_hash(), path, merkle.mth(leaf_data(at)))
    old = data.draw(st.integers(1, size))
    merkle.verify_consistency(old, size, log.root(old), log.root(size), log.consistency_proof(old, size))
    assert list(log.audit()) == []


def test_restart_continues_the_same_tree(tmp_path: Path) -> None:
    path = tmp_path / "log.duckdb"
    with duckdb.connect(str(path)) as con:
        MerkleLog(con, SIGNER).append(entries(0, 13))
    with duckdb.connect(str(path)) as con:
        log = MerkleLog(con, SIGNER)
        assert log.size == 13
        head = log.append(entries(13, 20))
    assert head is not None and head.root_hash == merkle.mth(leaf_data(33))


def test_reordered_log_is_detected() -> None:
    con = duckdb.connect(":memory:")
    log = MerkleLog(con, SIGNER)
    log.append(entries(0, 10))
    con.execute("UPDATE log_leaves SET idx = CASE idx WHEN 3 THEN 4 WHEN 4 THEN 3 END WHERE idx IN (3, 4)")
    problems = list(LogView(con).audit())
    assert any("entry 3 (uid uid-4)" in p and "reordered" in p for p in problems)
    assert any("published tree head of size 10" in p for p in problems)


def test_changed_entry_is_detected() -> None:
    con = duckdb.connect(":memory:")
    MerkleLog(con, SIGNER).append(entries(0, 5))
    con.execute("UPDATE log_leaves SET sha256 = repeat('f', 64) WHERE idx = 2")
    assert any("entry 2" in p for p in LogView(con).audit())


CHILD = textwrap.dedent("""
    import sys, duckdb
    from netvigil.evidence.records import LogEntry
    from netvigil.evidence.signing import Signer
    from netvigil.store.log import MerkleLog
    con = duckdb.connect(sys.argv[1])
    log = MerkleLog(con, Signer.from_pem(open(sys.argv[2], "rb").read()))
    while True:
        start = log.size
        head = log.append([LogEntry(uid=f"uid-{i}", sha256=f"{i:064x}") for i in range(start, start + 97)])
        print(head.tree_size, head.root_hash.hex(), flush=True)
""")


def test_sigkill_mid_append_keeps_every_published_head(tmp_path: Path) -> None:
    """A real process appending in a loop is killed at random points; every head it printed still holds."""
    db, key = tmp_path / "log.duckdb", tmp_path / "key.pem"
    key.write_bytes(SIGNER.to_pem())
    published: dict[int, str] = {}
    for wait_lines, delay in ((3, 0.013), (5, 0.0), (2, 0.031)):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(key)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env={**os.environ})
        assert child.stdout is not None
        lines = []
        while len(lines) < wait_lines:  # heads the child has committed and told us about
            line = child.stdout.readline()
            assert line, f"the child died: {child.stderr.read() if child.stderr else ''}"
            lines.append(line.split())
        time.sleep(delay)  # then kill it somewhere inside a later append
        os.kill(child.pid, signal.SIGKILL)
        out, _ = child.communicate(timeout=30)
        lines += [line.split() for line in out.splitlines() if line.strip()]
        assert child.returncode == -signal.SIGKILL
        published.update({int(size): root for size, root in lines})
    with duckdb.connect(str(db)) as con:
        log = MerkleLog(con, SIGNER)
        stored = {h.tree_size: h.root_hash.hex() for h in log.heads()}
        for size, root in published.items():
            assert stored[size] == root == log.root(size).hex() == merkle.mth(leaf_data(size)).hex()
            merkle.verify_consistency(size, log.size, bytes.fromhex(root), log.root(log.size),
                                      log.consistency_proof(size, log.size))
        assert log.size >= max(published)
        assert list(log.audit()) == []
        head = log.append(entries(log.size, 5))
    assert head is not None and head.root_hash == merkle.mth(leaf_data(head.tree_size))


def test_proof_beyond_the_log_is_refused() -> None:
    con = duckdb.connect(":memory:")
    log = MerkleLog(con, SIGNER)
    log.append(entries(0, 3))
    with pytest.raises(Exception, match="there is no tree of 4"):
        log.inclusion_proof(0, 4)
