"""Every table netvigil keeps in its DuckDB file, and the one way to open that file.

The schema is a registry of numbered migrations, applied in order to a database
opened for writing, each in its own transaction; a reader (``read_only``) never
migrates and refuses a file at another version, so ``report`` can read while
``serve`` holds the writer.  Every module that owns tables lists them here
instead of creating them on its own: one version, one place to look.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb


class StoreError(Exception):
    """The database cannot be opened, or was written by an incompatible netvigil."""


# A raw column holds zstd frames (store.db compresses each record): DuckDB's own string
# compression finds nothing left to save in them, and trying (dictionary, FSST) took about
# half of each checkpoint's time in an ingest, so the frames are stored as they are.  A file
# created before this hint keeps DuckDB's default for its raw columns: same rows, same
# queries, slower checkpoints.
RAW_COLUMN = "raw BLOB NOT NULL USING COMPRESSION uncompressed"
# The measurement tables as DDL column definitions; the Arrow type of each insert batch follows
# the SQL type (see store.db).
MEASUREMENT_TABLES: dict[str, tuple[str, ...]] = {
    "measurements": (
        "uid VARCHAR PRIMARY KEY", "report_id VARCHAR", "test_name VARCHAR NOT NULL", "test_version VARCHAR",
        "input VARCHAR", "domain VARCHAR", "probe_cc VARCHAR NOT NULL", "probe_asn VARCHAR NOT NULL",
        "measurement_start_time TIMESTAMP NOT NULL", "sha256 VARCHAR NOT NULL", "source VARCHAR NOT NULL",
        "position VARCHAR NOT NULL", RAW_COLUMN, "ingested_at TIMESTAMP NOT NULL",
    ),
    "verdicts": (
        "uid VARCHAR NOT NULL", "idx INTEGER NOT NULL", "is_summary BOOLEAN NOT NULL",
        "layer VARCHAR NOT NULL", "technique VARCHAR NOT NULL", "outcome VARCHAR NOT NULL",
        "confidence DOUBLE NOT NULL", "rule VARCHAR NOT NULL", "hostname VARCHAR", "depth INTEGER",
        "evidence JSON", "rules_version VARCHAR NOT NULL", "fingerprints_version VARCHAR NOT NULL",
        "analysed_at TIMESTAMP NOT NULL",
    ),
    "quarantine": (
        "id VARCHAR PRIMARY KEY", "source VARCHAR NOT NULL", "position VARCHAR NOT NULL",
        "category VARCHAR NOT NULL", "reason VARCHAR NOT NULL", "sha256 VARCHAR NOT NULL",
        RAW_COLUMN, "quarantined_at TIMESTAMP NOT NULL",
    ),
}

ROLLUP_TABLE = "api_daily_counts"
ROLLUP_STATE = "api_daily_state"
CATEGORIES_TABLE = "api_domain_categories"
EXPLORER_TABLE = "explorer_search"
EXPLORER_STATE = "explorer_state"

# The transparency log (store.log): leaves, complete-subtree hashes, signed heads, keys.
LOG_TABLES = {
    "log_leaves": ("idx BIGINT NOT NULL", "uid VARCHAR NOT NULL", "sha256 VARCHAR NOT NULL", "key_id VARCHAR",
                   "content_sha256 VARCHAR", "signature VARCHAR", "appended_at TIMESTAMP NOT NULL"),
    "log_nodes": ("last_leaf BIGINT NOT NULL", "level UTINYINT NOT NULL", "hash BLOB NOT NULL"),
    "log_probe_keys": ("key_id VARCHAR NOT NULL", "public_key BLOB NOT NULL", "first_seen TIMESTAMP NOT NULL"),
    "log_keys": ("key_id VARCHAR NOT NULL", "public_key BLOB NOT NULL", "added_at TIMESTAMP NOT NULL"),
    "log_heads": ("tree_size BIGINT NOT NULL", "timestamp BIGINT NOT NULL", "root_hash BLOB NOT NULL",
                  "log_key_id VARCHAR NOT NULL", "signature BLOB NOT NULL"),
}


@dataclass(frozen=True)
class Migration:
    version: int
    why: str
    statements: tuple[str, ...]


def _create(table: str, columns: tuple[str, ...]) -> str:
    return f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(columns)})"


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "measurements, their observations and verdicts, quarantine", (
        *(_create(t, c) for t, c in MEASUREMENT_TABLES.items()),
        "CREATE TABLE IF NOT EXISTS observations (uid VARCHAR NOT NULL, kind VARCHAR NOT NULL, "
        "idx INTEGER NOT NULL, hostname VARCHAR, depth INTEGER, ip VARCHAR, port INTEGER, failure VARCHAR, "
        "detail JSON)",
    )),
    Migration(2, "signal points and incidents, the API's daily roll-up and domain categories join the "
                 "registry; the observations table goes: nothing read it, and observations are rebuilt "
                 "from the raw measurement in microseconds whenever the analysis needs them", (
        "CREATE TABLE IF NOT EXISTS signal_points (entity VARCHAR NOT NULL, source VARCHAR NOT NULL, "
        "kind VARCHAR NOT NULL, time TIMESTAMP NOT NULL, value DOUBLE NOT NULL, weight DOUBLE NOT NULL, "
        "PRIMARY KEY (entity, source, time))",
        "CREATE TABLE IF NOT EXISTS incidents (entities VARCHAR[] NOT NULL, start TIMESTAMP NOT NULL, "
        "\"end\" TIMESTAMP, level VARCHAR NOT NULL, severity DOUBLE NOT NULL, confidence DOUBLE NOT NULL, "
        "signals VARCHAR[] NOT NULL, on_the_hour BOOLEAN NOT NULL, stored_at TIMESTAMP NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {ROLLUP_TABLE} (day DATE NOT NULL, probe_cc VARCHAR NOT NULL, "
        "probe_asn VARCHAR NOT NULL, domain VARCHAR NOT NULL, test_name VARCHAR NOT NULL, "
        "technique VARCHAR NOT NULL, ok_count BIGINT NOT NULL, anomaly_count BIGINT NOT NULL, "
        "confirmed_count BIGINT NOT NULL, failure_count BIGINT NOT NULL, measurement_count BIGINT NOT NULL, "
        "PRIMARY KEY (day, probe_cc, probe_asn, domain, test_name, technique))",
        f"CREATE TABLE IF NOT EXISTS {ROLLUP_STATE} (id INTEGER PRIMARY KEY, watermark VARCHAR NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {CATEGORIES_TABLE} (domain VARCHAR PRIMARY KEY, "
        "category_code VARCHAR NOT NULL)",
        "DROP TABLE IF EXISTS observations",
        "DROP TABLE IF EXISTS signals_schema_version",
    )),
    Migration(3, "the explorer's flat search table: one row per measurement beside its summary verdict", (
        f"CREATE TABLE IF NOT EXISTS {EXPLORER_TABLE} (uid VARCHAR NOT NULL, time TIMESTAMP NOT NULL, "
        "probe_cc VARCHAR NOT NULL, probe_asn VARCHAR NOT NULL, domain VARCHAR, domain_key VARCHAR, "
        "input VARCHAR, test_name VARCHAR NOT NULL, outcome VARCHAR NOT NULL, technique VARCHAR NOT NULL, "
        "confidence DOUBLE, rule VARCHAR, sha256 VARCHAR NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {EXPLORER_STATE} (id INTEGER PRIMARY KEY, watermark VARCHAR NOT NULL)",
    )),
    Migration(4, "the transparency log: leaves, complete-subtree hashes, signed tree heads, keys",
              tuple(_create(t, c) for t, c in LOG_TABLES.items())),
    Migration(5, "each incident's likely kind (government shutdown or power/natural outage) and its evidence", (
        "ALTER TABLE incidents ADD COLUMN IF NOT EXISTS kind VARCHAR",  # NULL: stored before kinds were assessed
        # no list default: replaying a WAL holding one needs an extension DuckDB would download
        "ALTER TABLE incidents ADD COLUMN IF NOT EXISTS kind_evidence VARCHAR[]",
        "ALTER TABLE incidents ADD COLUMN IF NOT EXISTS kind_score DOUBLE",
    )),
)
SCHEMA_VERSION = MIGRATIONS[-1].version
# DuckDB caches up to 80% of RAM by default, so a long ingest would keep every written block
# resident; big queries spill to disk instead.  A server may raise it (see store.database).
DEFAULT_MEMORY_LIMIT = "256MB"


def connect(path: str | Path, *, read_only: bool = False,
            memory_limit: str = DEFAULT_MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """The one way to open the database: a writer brings it to :data:`SCHEMA_VERSION`, a reader checks it.

    A reader refuses a missing file, so a mistyped ``--db`` is reported rather than
    answered from a new empty database; several readers may share the file with
    each other, and with a writer in another process only through its API.
    """
    target = Path(path)
    if read_only and not target.is_file():
        raise StoreError(f"no netvigil database at {target} (run `netvigil ingest` first)")
    if not read_only and str(target) != ":memory:":
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(target), read_only=read_only)
    except duckdb.IOException as exc:
        raise StoreError(_held_message(target, exc)) from exc
    except duckdb.Error as exc:  # not a DuckDB file, or another DuckDB version's
        raise StoreError(f"cannot open {target}: {exc}") from exc
    try:
        # A setting, not connect() config: other modules may open the same file in this process
        # with the default config, and DuckDB refuses connections whose configs differ.
        con.execute("SET memory_limit = ?", [memory_limit])
        if read_only:
            check(con)
        else:
            migrate(con)
    except BaseException:
        con.close()
        raise
    return con


def _held_message(target: Path, exc: duckdb.Error) -> str:
    """DuckDB's lock error names the process that holds the file; say it in one line."""
    text = str(exc)
    holder = text.split("(PID ", 1)[1].split(")", 1)[0] if "(PID " in text else None
    if "lock" in text.lower():
        who = f"process {holder}" if holder else "another process"
        return (f"cannot open {target}: {who} holds it for writing (a running `netvigil serve`?); "
                "read through its API, or stop it first")
    return f"cannot open {target}: {text.splitlines()[0]}"


def found_version(con: duckdb.DuckDBPyConnection) -> int | None:
    try:
        return con.execute("SELECT max(version) FROM schema_version").fetchall()[0][0]
    except duckdb.CatalogException:
        return None


def check(con: duckdb.DuckDBPyConnection) -> int:
    """The version of a database opened read-only, which must be this netvigil's."""
    found = found_version(con)
    if found is None:
        raise StoreError("not a netvigil database: it has no schema version")
    if found != SCHEMA_VERSION:
        raise StoreError(f"database schema version {found}; this netvigil reads version {SCHEMA_VERSION}"
                         + (" (open it once for writing, e.g. `netvigil analyze`, to upgrade it)"
                            if found < SCHEMA_VERSION else ""))
    return found


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply every migration newer than the file's version, each in one transaction."""
    found = found_version(con)
    if found is not None and found > SCHEMA_VERSION:
        raise StoreError(f"database schema version {found}; this netvigil reads version {SCHEMA_VERSION}")
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, "
                "applied_at TIMESTAMP NOT NULL)")
    applied = False
    for migration in MIGRATIONS:
        if found is not None and migration.version <= found:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in migration.statements:
                con.execute(statement)
            con.execute("INSERT INTO schema_version VALUES (?, ?)",
                        [migration.version, datetime.now(UTC).replace(tzinfo=None)])
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        applied = True
    if applied and not _in_memory(con):
        con.execute("CHECKPOINT")  # the schema lives in the file, never only in a WAL a crash leaves
    return SCHEMA_VERSION


def _in_memory(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT path IS NULL FROM duckdb_databases() WHERE database_name = current_database()"
                       ).fetchall()[0][0]
