"""Report tests reuse the seeded store of the API tests (helpers in tests/api)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))

from observatory_helpers import seed, xss_measurement


@pytest.fixture(scope="module")
def report_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "netvigil.duckdb"
    seed(path, extra=(xss_measurement(),))
    return path
