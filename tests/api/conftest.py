"""API tests run real uvicorn servers over real DuckDB files; helpers live beside this file."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from observatory_helpers import Running, running, seed, settings, xss_measurement


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with synthetic measurements, an XSS-laden one, an IR signal and its incident."""
    path = tmp_path_factory.mktemp("observatory") / "netvigil.duckdb"
    seed(path, extra=(xss_measurement(),))
    return path


@pytest.fixture(scope="module")
def api(seeded_db: Path) -> Iterator[Running]:
    """The read API over the seeded store (collector writes go to fresh stores in their own tests)."""
    with running(settings(seeded_db)) as server:
        yield server


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Running]:
    """A server over a new empty store, for collector tests."""
    with running(settings(tmp_path / "fresh.duckdb")) as server:
        yield server
