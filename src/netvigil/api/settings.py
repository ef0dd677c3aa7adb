"""What one ``netvigil serve`` process is configured with.

API keys come from ``$NETVIGIL_API_KEYS`` (comma-separated) or a key file, never
from the command line, where every local user could read them in ``ps``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_BATCH_RECORDS = 5_000
WRITE_RATE = 20.0  # collector requests per second and API key, sustained
WRITE_BURST = 60
READ_RATE = 50.0  # query and page requests per second and client address
READ_BURST = 400
API_KEYS_ENV = "NETVIGIL_API_KEYS"


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    db_path: Path
    api_keys: tuple[str, ...] = ()
    fingerprints_dir: Path | None = None
    test_lists: Path | None = None
    reports_dir: Path | None = None
    max_body_bytes: int = MAX_BODY_BYTES
    max_batch_records: int = MAX_BATCH_RECORDS
    write_rate: float = WRITE_RATE
    write_burst: int = WRITE_BURST
    read_rate: float = READ_RATE
    read_burst: int = READ_BURST
    log_key: Path | None = None      # the transparency log's signing key (default: beside the database)
    probe_keys: Path | None = None   # trusted probe public keys; None accepts any key whose signature holds


def load_api_keys(key_file: Path | None) -> tuple[str, ...]:
    """Keys from ``key_file`` (one a line, ``#`` comments) plus ``$NETVIGIL_API_KEYS``.

    A key shorter than 16 characters is refused: a collector key is a bearer
    secret, and a short one can be guessed within the rate limit's patience.
    """
    keys = [k.strip() for k in os.environ.get(API_KEYS_ENV, "").split(",")]
    if key_file is not None:
        keys += [line.strip() for line in key_file.read_text(encoding="utf-8").splitlines()
                 if not line.lstrip().startswith("#")]
    keys = [k for k in keys if k]
    short = [k for k in keys if len(k) < 16]
    if short:
        raise ValueError(f"{len(short)} API key(s) shorter than 16 characters")
    return tuple(dict.fromkeys(keys))
