"""The API process's hold on the DuckDB file: one connection, one writer at a time.

DuckDB lets one process write a database file, so the API process opens it once
and keeps it.  Reads run on cursors of that connection (DuckDB's MVCC lets them
proceed while a write is in flight); writes run on the connection itself under a
lock, one after another, which is the serialisation DuckDB needs.  The API keeps
two tables of its own beside the store's: the daily roll-up that answers
aggregations (:mod:`netvigil.store.rollup`) and domain categories
(:mod:`netvigil.store.categories`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from netvigil.store import categories, explorer, rollup
from netvigil.store.db import Store
from netvigil.store.schema import connect

# More than the store's ingest setting: aggregations and roll-up rebuilds join whole tables,
# and a server is a long-lived process where spilling to disk costs more than memory.
MEMORY_LIMIT = "1GB"


class Database:
    """The store file as the API sees it; build with :func:`open_database`."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._write_lock = threading.Lock()
        self._cursor_lock = threading.Lock()
        self.store = Store(con)

    def close(self) -> None:
        with self._write_lock:
            self._con.close()

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for one request's reads; closed afterwards."""
        with self._cursor_lock:
            cursor = self._con.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    @contextmanager
    def write(self) -> Iterator[tuple[duckdb.DuckDBPyConnection, Store]]:
        """The writing connection and store, held by one caller at a time."""
        with self._write_lock:
            yield self._con, self.store


def open_database(path: Path, *, test_lists: Path | None = None) -> Database:
    """Open (creating if needed) the store at ``path`` and bring the API's own tables up to date."""
    db = Database(connect(path, memory_limit=MEMORY_LIMIT))
    with db.write() as (writer, _):
        if test_lists is not None:
            categories.load(writer, test_lists)
        rollup.ensure_fresh(writer)
        explorer.ensure_fresh(writer)
    return db


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether ``name`` exists; tables of other modules (signals, incidents) may not yet."""
    sql = "SELECT count(*) FROM information_schema.tables WHERE table_name = ?"
    return con.execute(sql, [name]).fetchall()[0][0] > 0
