"""Which category (Citizen Lab code) a domain belongs to, for "blocked by category" views.

Measurements do not carry a category; OONI joins them to the Citizen Lab test
lists, and so does netvigil.  ``--test-lists DIR`` loads every CSV there with
``url`` and ``category_code`` columns (``global.csv`` first; the first category
seen for a domain wins).  Domains are compared without a leading ``www.``.  A
domain in no list is counted under :data:`UNCATEGORISED`.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from netvigil.store.schema import CATEGORIES_TABLE

TABLE = CATEGORIES_TABLE  # created by store.schema
UNCATEGORISED = "UNKNOWN"
log = logging.getLogger("netvigil.api")


def domain_key(host: str) -> str:
    """The form domains are matched in: lower case, no leading ``www.``."""
    host = host.lower()
    return host.removeprefix("www.")


def key_sql(column: str) -> str:
    """SQL for :func:`domain_key` of a column (a fixed column name, never user input)."""
    return f"regexp_replace(lower({column}), '^www\\.', '')"


# The category of a row, once :func:`join_sql` has joined the table as ``cat``.
CATEGORY_SQL = f"coalesce(cat.category_code, '{UNCATEGORISED}')"


def join_sql(column: str) -> str:
    """A LEFT JOIN of the category table on the domain in ``column`` (a fixed column name)."""
    return f"LEFT JOIN {TABLE} cat ON cat.domain = {key_sql(column)}"


def load(con: duckdb.DuckDBPyConnection, folder: Path) -> int:
    """Replace the categories with those of the test lists in ``folder``; returns domains loaded."""
    found: dict[str, str] = {}
    files = sorted(folder.glob("*.csv"), key=lambda p: (p.name != "global.csv", p.name))
    for path in files:
        for host, code in _rows(path):
            found.setdefault(domain_key(host), code)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM {TABLE}")
        if found:
            con.executemany(f"INSERT INTO {TABLE} VALUES (?, ?)", list(found.items()))
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    log.info("loaded categories of %d domains from %s", len(found), folder)
    return len(found)


def _rows(path: Path) -> list[tuple[str, str]]:
    """(host, category) pairs of one list; legend files without a ``url`` column give none."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"url", "category_code"} <= set(reader.fieldnames):
            return []
        rows = []
        for row in reader:
            host = _host(row.get("url") or "")
            code = (row.get("category_code") or "").strip().upper()
            if host and code:
                rows.append((host, code))
        return rows


def _host(url: str) -> str | None:
    try:
        return urlsplit(url.strip()).hostname
    except ValueError:
        return None
