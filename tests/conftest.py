"""Shared fixtures: synthetic measurements, measurement files, and the shared data folder.

Reference data and real measurements are never copied into the repository (their
licences do not allow it): tests read them from ``$NETVIGIL_SHARED_DATA`` (default
``../shared/data`` next to the repository) and skip only when it is absent.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson
import pytest

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.store.reference_data import load_default_fingerprints, shared_data_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared data folder {path} is absent")
    return path


@pytest.fixture(scope="session")
def treaty_context(shared_data: Path) -> Path:
    """The legal-context table (UN votes, conventions) that pages and reports cite."""
    path = shared_data / "treaty_context" / "treaty_context.csv"
    if not path.is_file():
        pytest.skip(f"legal-context table {path} is absent")
    return path


@pytest.fixture(scope="session")
def real_fingerprints(shared_data: Path) -> FingerprintDB:
    return load_default_fingerprints(shared_data)


@pytest.fixture
def no_fingerprints() -> FingerprintDB:
    return FingerprintDB.empty()


def web_measurement(n: int = 0, **overrides: Any) -> dict[str, Any]:
    """A small web_connectivity measurement whose summary is BLOCKED by a bogon DNS answer."""
    host = f"site{n}.example.org"
    test_keys = {
        "queries": [{"hostname": host, "query_type": "A", "engine": "system", "failure": None,
                     "answers": [{"answer_type": "A", "ipv4": "10.10.34.35"}]}],
        "tcp_connect": [], "requests": [],
        "control": {"dns": {"failure": None, "addrs": ["93.184.215.14"]},
                    "tcp_connect": {"93.184.215.14:443": {"status": True, "failure": None}},
                    "http_request": {"status_code": 200, "body_length": 1000, "title": "Example",
                                     "headers": {}, "failure": None}},
    }
    measurement = {
        "report_id": f"20240101T000000Z_webconnectivity_IT_137_n1_{n:016d}",
        "test_name": "web_connectivity", "test_version": "0.4.3",
        "measurement_start_time": f"2024-01-01 00:{n // 60 % 60:02d}:{n % 60:02d}",
        "input": f"https://{host}/", "probe_cc": "IT", "probe_asn": "AS137", "test_keys": test_keys,
    }
    measurement.update(overrides)
    return measurement


@pytest.fixture
def measurement() -> Callable[..., dict[str, Any]]:
    """Factory: ``measurement(n, **overrides)`` -> a distinct web_connectivity measurement."""
    return web_measurement


def line(obj: Any) -> bytes:
    return orjson.dumps(obj)


@pytest.fixture
def write_lines(tmp_path: Path) -> Callable[[str, Iterable[bytes]], Path]:
    """Factory: write raw lines (bytes, newline-joined) to ``tmp_path/name``, gzipped for ``*.gz``."""
    def write(name: str, lines: Iterable[bytes]) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = b"".join(item + b"\n" for item in lines)
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        return path

    return write


@pytest.fixture
def jsonl(write_lines: Callable[[str, Iterable[bytes]], Path]) -> Callable[[str, Iterable[Any]], Path]:
    """Factory: write objects (or raw bytes, kept as they are) as JSON lines."""
    def write(name: str, items: Iterable[Any]) -> Path:
        return write_lines(name, (i if isinstance(i, bytes) else line(i) for i in items))

    return write


@pytest.fixture(autouse=True)
def _probe_key_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A probe run creates its signing key on first use: keep it out of the user's home in tests."""
    monkeypatch.setenv("NETVIGIL_PROBE_KEY", str(tmp_path_factory.getbasetemp() / "probe-key.pem"))
