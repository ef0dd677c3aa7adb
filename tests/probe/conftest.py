"""Fixtures for the probe tests: a test CA and its PEM file (nothing leaves loopback).

The loopback servers live in ``probe_servers.py`` beside this file, shared with
``bench/bench_probe.py``; the folder is put on ``sys.path`` because the suite
runs with ``--import-mode=importlib``, which does not do so.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from probe_servers import CA, make_ca


@pytest.fixture(scope="session")
def test_ca() -> CA:
    return make_ca()


@pytest.fixture(scope="session")
def ca_file(test_ca: CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    path.write_bytes(test_ca.pem())
    return str(path)


@pytest.fixture(scope="session")
def cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("certs")
