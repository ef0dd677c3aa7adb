"""The transparency log's persistence: leaves, complete subtree hashes and signed tree heads.

Three tables, written together in one transaction per append, so a process
killed mid-append leaves the log exactly as the last committed append left it:

- ``log_leaves``: one row per entry, in leaf order (what each leaf's data was made of);
- ``log_nodes``: the hash of every complete subtree (:mod:`netvigil.evidence.merkle`),
  keyed by ``(last_leaf, level)`` — the leaf whose append completed it — so rows
  arrive in key order and DuckDB's min/max zone maps find any node by reading one
  row group, with no index to build or hold in memory;
- ``log_heads``: every signed tree head ever handed out.  The log's size is the
  latest head's, so nothing is published that is not on disk, and nothing on
  disk is beyond a head except what a crash rolled back.

Rows are never updated or deleted except leftovers past the latest head, which
no head covers (:meth:`MerkleLog._drop_unpublished`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import zstandard

from netvigil.evidence import merkle
from netvigil.evidence.bundle import Bundle, Cited, make_bundle
from netvigil.evidence.merkle import NodeKey
from netvigil.evidence.records import LogEntry, TreeHead, sign_head
from netvigil.evidence.signing import Signer
from netvigil.store.schema import migrate

log = logging.getLogger(__name__)
_LEAF_SCHEMA = pa.schema([("idx", pa.int64()), ("uid", pa.string()), ("sha256", pa.string()),
                          ("key_id", pa.string()), ("content_sha256", pa.string()), ("signature", pa.string()),
                          ("appended_at", pa.timestamp("us"))])
_NODE_SCHEMA = pa.schema([("last_leaf", pa.int64()), ("level", pa.uint8()), ("hash", pa.binary())])
_HEAD_COLUMNS = "tree_size, timestamp, root_hash, log_key_id, signature"
CACHED_LEVEL = 8        # subtrees of 256 leaves and more are held in memory (NodeCache)
SPAN_GAP = 1 << CACHED_LEVEL  # nodes below it that one query fetches together lie this close
MAX_SPAN_QUERIES = 32


class LogError(Exception):
    """The stored log cannot be read as a consistent log."""


@dataclass(frozen=True, slots=True)
class LoggedEntry:
    index: int
    entry: LogEntry


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The log's tables are in the migration registry (store.schema, version 4); bring ``con`` there."""
    migrate(con)


def last_leaf(key: NodeKey) -> int:
    level, index = key
    return ((index + 1) << level) - 1


class LogView:
    """Reading the log as of its latest head; cheap to build per request, on a read cursor."""

    def __init__(self, con: duckdb.DuckDBPyConnection, cache: NodeCache | None = None) -> None:
        self._con = con
        self._cache = cache
        head = self.latest_head()
        self.size = 0 if head is None else head.tree_size

    # --- reading ----------------------------------------------------------------------------

    def latest_head(self) -> TreeHead | None:
        try:
            row = self._con.execute(f"SELECT {_HEAD_COLUMNS} FROM log_heads ORDER BY tree_size DESC, "
                                    "timestamp DESC LIMIT 1").fetchone()
        except duckdb.CatalogException:  # a store that never had a collector: an empty log
            return None
        return None if row is None else _head(row)

    def public_key(self, kid: str) -> bytes | None:
        """The log's public key with id ``kid`` (every key that ever signed a head is kept)."""
        try:
            row = self._con.execute("SELECT public_key FROM log_keys WHERE key_id = ? LIMIT 1", [kid]).fetchone()
        except duckdb.CatalogException:
            return None
        return None if row is None else bytes(row[0])

    def probe_keys(self, kids: Iterable[str]) -> dict[str, bytes]:
        """Public keys of the probes that signed logged entries, by key id."""
        wanted = sorted(set(kids))
        if not wanted:
            return {}
        rows = self._con.execute("SELECT key_id, public_key FROM log_probe_keys WHERE key_id IN "
                                 "(SELECT unnest(?::VARCHAR[]))", [wanted]).fetchall()
        return {kid: bytes(pub) for kid, pub in rows}

    def heads(self) -> list[TreeHead]:
        if not self.size:
            return []
        rows = self._con.execute(f"SELECT {_HEAD_COLUMNS} FROM log_heads ORDER BY tree_size, timestamp").fetchall()
        return [_head(row) for row in rows]

    def head_at(self, size: int) -> TreeHead | None:
        row = self._con.execute(f"SELECT {_HEAD_COLUMNS} FROM log_heads WHERE tree_size = ? "
                                "ORDER BY timestamp LIMIT 1", [size]).fetchone()
        return None if row is None else _head(row)

    def find(self, uid: str) -> LoggedEntry | None:
        if not self.size:
            return None
        row = self._con.execute("SELECT idx, uid, sha256, key_id, content_sha256, signature FROM log_leaves "
                                "WHERE uid = ? AND idx < ? ORDER BY idx LIMIT 1", [uid, self.size]).fetchone()
        return None if row is None else _logged(row)

    def find_many(self, uids: Iterable[str]) -> dict[str, LoggedEntry]:
        if not self.size:
            return {}
        rows = self._con.execute("SELECT idx, uid, sha256, key_id, content_sha256, signature FROM log_leaves "
                                 "WHERE uid IN (SELECT unnest(?::VARCHAR[])) AND idx < ? ORDER BY idx",
                                 [list(uids), self.size]).fetchall()
        found: dict[str, LoggedEntry] = {}
        for row in rows:
            found.setdefault(row[1], _logged(row))
        return found

    def entries(self, start: int, end: int) -> list[LogEntry]:
        rows = self._con.execute("SELECT idx, uid, sha256, key_id, content_sha256, signature FROM log_leaves "
                                 "WHERE idx >= ? AND idx < ? ORDER BY idx", [start, min(end, self.size)]).fetchall()
        return [_logged(row).entry for row in rows]

    def root(self, size: int) -> bytes:
        self._check_size(size)
        parts = merkle.complete_parts(0, size)
        return merkle.range_hash(0, size, self._nodes(parts))

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        self._check_size(size)
        ranges = merkle.inclusion_ranges(index, size)
        return merkle.hashes_for(ranges, self._nodes(merkle.nodes_needed(ranges)))

    def inclusion_proofs(self, indexes: Sequence[int], size: int) -> list[list[bytes]]:
        """Proofs of many leaves in one tree, with one node lookup for all of them."""
        self._check_size(size)
        all_ranges = [merkle.inclusion_ranges(i, size) for i in indexes]
        nodes = self._nodes({k for ranges in all_ranges for k in merkle.nodes_needed(ranges)})
        return [merkle.hashes_for(ranges, nodes) for ranges in all_ranges]

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        self._check_size(new)
        ranges = merkle.consistency_ranges(old, new)
        return merkle.hashes_for(ranges, self._nodes(merkle.nodes_needed(ranges)))

    def unlogged(self, uids: Iterable[str]) -> list[str]:
        """Those of ``uids`` not in the log yet, in the order given."""
        wanted = list(uids)
        held = set(self.find_many(wanted))
        return [u for u in wanted if u not in held]

    def audit(self, batch: int = 100_000) -> Iterator[str]:
        """Rebuild the tree from the stored entries; say (for a person) where it departs from what was published.

        Streams the leaves in order, so memory stays flat at any size; every
        published head must be reproduced by the entries, in order, up to its size.
        """
        heads = {h.tree_size: h for h in self.heads()}
        frontier: list[tuple[NodeKey, bytes]] = []
        index = 0
        if 0 in heads and heads[0].root_hash != merkle.EMPTY_ROOT:
            yield "the tree head of size 0 does not have the empty tree's root"
        while index < self.size:
            entries = self.entries(index, index + batch)
            if not entries:
                yield f"the log should have {self.size} entries but ends at {index}: entries were deleted"
                return
            stored = self._con.execute("SELECT last_leaf, hash FROM log_nodes WHERE level = 0 AND last_leaf >= ? "
                                       "AND last_leaf < ? ORDER BY last_leaf", [index, index + len(entries)]).fetchall()
            stored_hash = {leaf: bytes(h) for leaf, h in stored}
            for entry in entries:
                value = entry.leaf_hash()
                if stored_hash.get(index) != value:
                    yield (f"entry {index} (uid {entry.uid}) does not match the leaf hash logged at that position: "
                           "the log was reordered or an entry changed after it was logged")
                key: NodeKey = (0, index)
                while frontier and frontier[-1][0][0] == key[0]:
                    (level, _), left = frontier.pop()
                    key, value = (level + 1, key[1] >> 1), merkle.node_hash(left, value)
                frontier.append((key, value))
                index += 1
                head = heads.get(index)
                if head is not None and _fold(frontier) != head.root_hash:
                    yield (f"the entries no longer produce the published tree head of size {index} "
                           f"(root {head.root_hash.hex()[:16]}…): the log was reordered or rewritten")

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise LogError(f"the log has {self.size} leaves; there is no tree of {size}")

    def _nodes(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        """Stored hashes of complete subtrees: upper levels from the shared cache, the rest from the table.

        The nodes below :data:`CACHED_LEVEL` that one proof needs lie within a few
        hundred leaves of the proven leaf and of the tree's edge, so they come in
        one range query per neighbourhood, which the zone maps answer from a
        row group or two; many neighbourhoods (a report's thousand proofs) are
        fetched in one join instead.
        """
        wanted = {(last_leaf(k), k[0]): k for k in keys}
        found: dict[NodeKey, bytes] = {}
        if self._cache is not None:
            for key in list(wanted.values()):
                value = self._cache.get(key)
                if value is not None:
                    found[key] = value
                    del wanted[(last_leaf(key), key[0])]
        if wanted:
            for leaf, level, value in self._fetch(sorted({leaf for leaf, _ in wanted})):
                fetched = wanted.get((leaf, level))
                if fetched is not None:
                    found[fetched] = bytes(value)
        missing = [k for k in wanted.values() if k not in found]
        if missing:
            raise LogError(f"the stored log lacks {len(missing)} subtree hash(es), e.g. level {missing[0][0]} "
                           f"index {missing[0][1]}: the database was changed outside netvigil")
        return found

    def _fetch(self, leaves: list[int]) -> list[tuple[int, int, bytes]]:
        spans: list[list[int]] = []
        for leaf in leaves:
            if spans and leaf - spans[-1][1] <= SPAN_GAP:
                spans[-1][1] = leaf
            else:
                spans.append([leaf, leaf])
        sql = "SELECT last_leaf, level, hash FROM log_nodes WHERE "
        if len(spans) > MAX_SPAN_QUERIES:
            return self._con.execute(sql + "last_leaf IN (SELECT unnest(?::BIGINT[]))", [leaves]).fetchall()
        rows: list[tuple[int, int, bytes]] = []
        for low, high in spans:
            rows += self._con.execute(sql + "last_leaf BETWEEN ? AND ?", [low, high]).fetchall()
        return rows


class NodeCache:
    """Complete subtree hashes at :data:`CACHED_LEVEL` and above, for one log, shared by its readers.

    A complete subtree never changes once stored, so the cache cannot go stale; it
    may only lack nodes appended since, which readers then fetch from the table.
    About 2 n / 2**CACHED_LEVEL entries: some 80,000 (a few MB) at 10 million leaves.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        rows = con.execute("SELECT last_leaf, level, hash FROM log_nodes WHERE level >= ?", [CACHED_LEVEL]).fetchall()
        self._nodes = {(level, ((leaf + 1) >> level) - 1): bytes(h)
                       for leaf, level, h in rows}

    def get(self, key: NodeKey) -> bytes | None:
        return self._nodes.get(key)

    def add(self, nodes: Iterable[tuple[int, int, bytes]]) -> None:
        for leaf, level, value in nodes:
            if level >= CACHED_LEVEL:
                self._nodes[(level, ((leaf + 1) >> level) - 1)] = value

    def __len__(self) -> int:
        return len(self._nodes)

class MerkleLog(LogView):
    """The log's writer; one per database, the caller serialises appends."""

    def __init__(self, con: duckdb.DuckDBPyConnection, signer: Signer) -> None:
        ensure_tables(con)
        super().__init__(con)
        self._signer = signer
        self._drop_unpublished()
        self._cache = self.cache = NodeCache(con)
        if self.public_key(signer.key_id) is None:
            con.execute("INSERT INTO log_keys VALUES (?, ?, ?)", [signer.key_id, signer.public_key, _utcnow()])
        # The right edge: hashes of the complete subtrees that make up the current root.
        edge = merkle.complete_parts(0, self.size)
        stored = self._nodes(edge)
        self._frontier = [(key, stored[key]) for key in edge]

    @property
    def signing_key(self) -> bytes:
        return self._signer.public_key

    # --- appending --------------------------------------------------------------------------

    def append(self, entries: Sequence[LogEntry]) -> TreeHead | None:
        """Add ``entries`` as leaves and sign the new head, all in one transaction."""
        if not entries:
            return None
        start = self.size
        frontier = list(self._frontier)
        nodes: list[tuple[int, int, bytes]] = []
        for offset, entry in enumerate(entries):
            key, value = (0, start + offset), entry.leaf_hash()
            nodes.append((start + offset, 0, value))
            while frontier and frontier[-1][0][0] == key[0]:
                (level, _), left = frontier.pop()
                key, value = (level + 1, key[1] >> 1), merkle.node_hash(left, value)
                nodes.append((start + offset, level + 1, value))
            frontier.append((key, value))
        size = start + len(entries)
        root = _fold(frontier)
        head = sign_head(self._signer, tree_size=size, timestamp=int(time.time() * 1000), root_hash=root)
        self._write(start, entries, nodes, head)
        self.size, self._frontier = size, frontier
        self.cache.add(nodes)
        return head

    def remember_probe_keys(self, keys: dict[str, bytes]) -> None:
        """Keep the public key of every probe key id the log names, so bundles can carry them."""
        new = {kid: pub for kid, pub in keys.items() if kid not in self.probe_keys(keys)}
        for kid, pub in new.items():
            self._con.execute("INSERT INTO log_probe_keys VALUES (?, ?, ?)", [kid, pub, _utcnow()])

    def _write(self, start: int, entries: Sequence[LogEntry], nodes: list[tuple[int, int, bytes]],
               head: TreeHead) -> None:
        now = _utcnow()
        leaves = pa.table({"idx": list(range(start, start + len(entries))), "uid": [e.uid for e in entries],
                           "sha256": [e.sha256 for e in entries], "key_id": [e.key_id for e in entries],
                           "content_sha256": [e.content_sha256 for e in entries],
                           "signature": [e.signature for e in entries], "appended_at": [now] * len(entries)},
                          schema=_LEAF_SCHEMA)
        node_table = pa.table({"last_leaf": [n[0] for n in nodes], "level": [n[1] for n in nodes],
                               "hash": [n[2] for n in nodes]}, schema=_NODE_SCHEMA)
        con = self._con
        con.execute("BEGIN TRANSACTION")
        try:
            con.register("_log_leaves", leaves)
            con.register("_log_nodes", node_table)
            con.execute("INSERT INTO log_leaves SELECT * FROM _log_leaves")
            con.execute("INSERT INTO log_nodes SELECT * FROM _log_nodes")
            con.execute(f"INSERT INTO log_heads ({_HEAD_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                        [head.tree_size, head.timestamp, head.root_hash, head.log_key_id, head.signature])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.unregister("_log_leaves")
            con.unregister("_log_nodes")

    def _drop_unpublished(self) -> None:
        """Remove rows past the latest head (never covered by a published head)."""
        extra = self._con.execute("SELECT count(*) FROM log_leaves WHERE idx >= ?", [self.size]).fetchall()[0][0]
        if extra:
            log.warning("dropping %d log leaves past the latest tree head of %d", extra, self.size)
            self._con.execute("DELETE FROM log_leaves WHERE idx >= ?", [self.size])
            self._con.execute("DELETE FROM log_nodes WHERE last_leaf >= ?", [self.size])


def collected_unlogged(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, bytes]]:
    """(uid, sha256, exact bytes) of measurements the collector stored that no leaf holds.

    Only a crash between the store's commit and the log's leaves any; the
    collector appends them when it starts again.
    """
    ensure_tables(con)
    rows = con.execute("SELECT m.uid, m.sha256, m.raw FROM measurements m WHERE m.source LIKE 'api:%' "
                       "AND NOT EXISTS (SELECT 1 FROM log_leaves l WHERE l.uid = m.uid) "
                       "ORDER BY m.ingested_at, m.uid").fetchall()
    unzstd = zstandard.ZstdDecompressor()
    return [(uid, sha, unzstd.decompress(raw)) for uid, sha, raw in rows]


def measurement_bytes(con: duckdb.DuckDBPyConnection, uid: str) -> bytes | None:
    """The exact bytes stored for ``uid`` (what its logged SHA-256 is of), or None."""
    row = con.execute("SELECT raw FROM measurements WHERE uid = ?", [uid]).fetchone()
    return None if row is None else zstandard.ZstdDecompressor().decompress(row[0])


def evidence_bundle(con: duckdb.DuckDBPyConnection, uids: Iterable[str], *, bodies: bool,
                    cache: NodeCache | None = None) -> Bundle | None:
    """A bundle proving ``uids`` (those in the log) against the latest head; None for an empty log.

    ``bodies`` adds each measurement's exact stored bytes, so that a reader can
    check them too; reports leave them out (a thousand bodies are tens of MB).
    """
    view = LogView(con, cache)
    head = view.latest_head()
    if head is None:
        return None
    key = view.public_key(head.log_key_id)
    if key is None:
        raise LogError(f"the log's public key {head.log_key_id[:16]}… is missing from the store")
    found = sorted(view.find_many(uids).values(), key=lambda f: f.index)
    proofs = view.inclusion_proofs([f.index for f in found], head.tree_size)
    cited = [Cited(leaf_index=f.index, entry=f.entry, inclusion_proof=tuple(p),
                   measurement=measurement_bytes(con, f.entry.uid) if bodies else None)
             for f, p in zip(found, proofs, strict=True)]
    signers = view.probe_keys(c.entry.key_id for c in cited if c.entry.key_id)
    return make_bundle(key, head, cited, signers)


def _fold(frontier: list[tuple[NodeKey, bytes]]) -> bytes:
    if not frontier:
        return merkle.EMPTY_ROOT
    acc = frontier[-1][1]
    for _, left in reversed(frontier[:-1]):
        acc = merkle.node_hash(left, acc)
    return acc


def _head(row: tuple) -> TreeHead:  # type: ignore[type-arg]
    size, stamp, root, kid, signature = row
    return TreeHead(tree_size=size, timestamp=stamp, root_hash=bytes(root), log_key_id=kid, signature=bytes(signature))


def _logged(row: tuple) -> LoggedEntry:  # type: ignore[type-arg]
    idx, uid, sha256, kid, content, signature = row
    return LoggedEntry(idx, LogEntry(uid=uid, sha256=sha256, key_id=kid, content_sha256=content, signature=signature))


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
