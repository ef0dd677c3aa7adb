"""A DuckDB database whose store tables are views over an engine job's Parquet dataset.

``netvigil ingest --engine dask --parquet OUT`` writes ``OUT/<table>/day=…/cc=…/*.parquet``
(quarantine unpartitioned).  :func:`link_dataset` puts, in a small DuckDB file, one view
per store table over those files, plus the schema version, so every reader of the store —
``netvigil stats``/``show``/``quarantine``, the API (``netvigil serve --db``) — queries the
Parquet directly without copying it.  The views are read-only: a collector cannot write
into a Parquet dataset.  Paths in the views are absolute, so re-link after moving the folder.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from netvigil.store.schema import MEASUREMENT_TABLES as TABLES
from netvigil.store.schema import StoreError, migrate

LINK_FILE = "netvigil.duckdb"
PARTITIONED = ("measurements", "verdicts")


def link_dataset(dataset: str | Path, db_path: str | Path | None = None) -> Path:
    """Create (or replace) the DuckDB file of views over ``dataset``; returns its path."""
    root = Path(dataset).resolve()
    if not root.is_dir():
        raise StoreError(f"no Parquet dataset at {root}")
    target = Path(db_path) if db_path is not None else root / LINK_FILE
    con = duckdb.connect(str(target))
    try:
        migrate(con)  # every table of this version, so any reader finds what it expects ...
        for table, columns in TABLES.items():  # ... with the measurement tables as views over the files
            _link_table(con, root, table, columns)
    finally:
        con.close()
    return target


def dataset_glob(dataset: str | Path, table: str) -> str:
    """The glob of one table's files (hive-style ``day=``/``cc=`` folders for the partitioned ones)."""
    root = Path(dataset).resolve()
    return str(root / table / ("*/*/*.parquet" if table in PARTITIONED else "*.parquet"))


def _link_table(con: duckdb.DuckDBPyConnection, root: Path, table: str, columns: tuple[str, ...]) -> None:
    names = ", ".join(c.split()[0] for c in columns)
    kind = "TABLE" if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?",
                                  [table]).fetchall()[0][0] else "VIEW"
    con.execute(f"DROP {kind} IF EXISTS {table}")
    con.execute(f"DROP TABLE IF EXISTS {table}")
    pattern = dataset_glob(root, table)
    if not list(root.glob(str(Path(pattern).relative_to(root)))):
        # No file for this table (e.g. nothing quarantined): an empty table keeps queries valid.
        con.execute(f"CREATE TABLE {table} ({', '.join(c.replace(' PRIMARY KEY', '') for c in columns)})")
        return
    literal = pattern.replace("'", "''")
    con.execute(f"CREATE VIEW {table} AS SELECT {names} FROM read_parquet('{literal}', hive_partitioning = false)")


def load_dataset(con: duckdb.DuckDBPyConnection, dataset: str | Path) -> tuple[int, int]:
    """Copy a dataset's rows into a store's tables; returns (measurements added, quarantine rows added).

    A measurement the store already has keeps its stored rows (ingest is idempotent by uid),
    and a quarantine entry already listed is not added twice, as in ``Store.ingest``.
    """
    root = Path(dataset).resolve()
    counts = []
    con.execute("BEGIN TRANSACTION")
    try:
        fresh = _staged(con, root, "measurements", "m")
        if fresh:
            con.execute("CREATE TEMP TABLE _nv_new AS SELECT uid FROM _nv_m WHERE uid NOT IN (SELECT uid FROM measurements)")
            for table in PARTITIONED:
                if table == "measurements" or _staged(con, root, table, table[0]):
                    alias = "m" if table == "measurements" else table[0]
                    names = ", ".join(c.split()[0] for c in TABLES[table])
                    con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _nv_{alias} "
                                "WHERE uid IN (SELECT uid FROM _nv_new)")
            counts.append(con.execute("SELECT count(*) FROM _nv_new").fetchall()[0][0])
        else:
            counts.append(0)
        if _staged(con, root, "quarantine", "q"):
            names = ", ".join(c.split()[0] for c in TABLES["quarantine"])
            before = con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0]
            con.execute(f"INSERT INTO quarantine ({names}) SELECT {names} FROM _nv_q "
                        "WHERE id NOT IN (SELECT id FROM quarantine) QUALIFY row_number() OVER (PARTITION BY id) = 1")
            counts.append(con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0] - before)
        else:
            counts.append(0)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in ("_nv_m", "_nv_o", "_nv_v", "_nv_q"):
            con.execute(f"DROP VIEW IF EXISTS {name}")
        con.execute("DROP TABLE IF EXISTS _nv_new")
    return counts[0], counts[1]


def _staged(con: duckdb.DuckDBPyConnection, root: Path, table: str, alias: str) -> bool:
    """A temporary view ``_nv_<alias>`` over one table's files; False when it has none."""
    pattern = dataset_glob(root, table)
    if not list(root.glob(str(Path(pattern).relative_to(root)))):
        return False
    literal = pattern.replace("'", "''")
    con.execute(f"CREATE OR REPLACE TEMP VIEW _nv_{alias} AS SELECT * FROM read_parquet('{literal}')")
    return True
