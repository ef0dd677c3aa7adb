"""The migration registry: one version for every table, old files upgraded, readers never migrate."""

from __future__ import annotations

import duckdb
import pytest

from netvigil.store.schema import MIGRATIONS, SCHEMA_VERSION, StoreError, connect, found_version


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def test_versions_are_consecutive_from_one():
    assert [m.version for m in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))


def test_a_new_file_gets_every_table_of_every_module(tmp_path):
    con = connect(tmp_path / "new.duckdb")
    assert {"measurements", "verdicts", "quarantine", "signal_points", "incidents", "api_daily_counts",
            "api_daily_state", "api_domain_categories"} <= _tables(con)
    assert "observations" not in _tables(con)  # written by version 1, read by nothing: dropped in 2
    assert found_version(con) == SCHEMA_VERSION


def test_a_version_one_file_is_upgraded_in_place_keeping_its_rows(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)")
    for statement in MIGRATIONS[0].statements:
        con.execute(statement)
    con.execute("INSERT INTO schema_version VALUES (1, now())")
    con.execute("INSERT INTO quarantine VALUES ('q', 's', 'p', 'c', 'r', 'h', 'x'::BLOB, now())")
    con.close()
    with pytest.raises(StoreError, match="version 1.*upgrade"):
        connect(path, read_only=True)  # a reader never changes the file
    con = connect(path)
    assert found_version(con) == SCHEMA_VERSION
    assert con.execute("SELECT count(*) FROM quarantine").fetchall() == [(1,)]
    assert "observations" not in _tables(con)
    con.close()
    connect(path, read_only=True).close()


def test_a_newer_file_is_refused_by_writer_and_reader(tmp_path):
    path = tmp_path / "future.duckdb"
    connect(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_version VALUES (?, now())", [SCHEMA_VERSION + 1])
    con.close()
    for read_only in (False, True):
        with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}"):
            connect(path, read_only=read_only)


def test_raw_columns_are_stored_without_duckdb_compression(tmp_path):
    """They hold zstd frames already: DuckDB's string compression would only cost checkpoint time."""
    con = connect(tmp_path / "new.duckdb")
    con.execute("INSERT INTO quarantine SELECT 'q' || i, 's', 'p', 'c', 'r', 'h', repeat('ab', 3000)::BLOB, now() "
                "FROM range(2000) t(i)")
    con.execute("INSERT INTO measurements SELECT 'u' || i, NULL, 'web_connectivity', NULL, NULL, NULL, 'IT', "
                "'AS1', now(), 'h', 's', 'p', repeat('ab', 3000)::BLOB, now() FROM range(2000) t(i)")
    con.execute("CHECKPOINT")
    for table in ("measurements", "quarantine"):
        kinds = {row[0] for row in con.execute(
            f"SELECT compression FROM pragma_storage_info('{table}') WHERE column_name = 'raw' "
            "AND segment_type = 'BLOB'").fetchall()}
        assert kinds == {"Uncompressed"}, (table, kinds)
    assert con.execute("SELECT count(*), min(octet_length(raw)) FROM measurements").fetchall() == [(2000, 6000)]
