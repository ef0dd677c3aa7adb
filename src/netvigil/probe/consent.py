"""Informed consent, asked once: measuring censorship can carry legal risk.

The acknowledgement is stored under the user's configuration directory
(``$NETVIGIL_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/netvigil``, else
``~/.config/netvigil``); ``--yes-i-understand`` records it without a prompt.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

CONSENT_FILE = "consent-v1"
NOTICE = """\
Before you measure: netvigil connects to websites that may be blocked where you
are, exactly as a browser would, and anyone watching your network (your ISP,
your employer, your government) can see those connections.  In some countries
accessing or testing blocked content is illegal or dangerous.  Measurements you
share are published openly; your IP address is removed from them, but your
country and network (ASN) are not.  Please read about the risks before going on:
https://ooni.org/about/risks/
"""


def config_dir() -> Path:
    explicit = os.environ.get("NETVIGIL_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "netvigil"


def has_consented(directory: Path) -> bool:
    return (directory / CONSENT_FILE).is_file()


def record_consent(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / CONSENT_FILE).write_text(f"acknowledged {datetime.now(UTC).isoformat()}\n", encoding="utf-8")


def ensure_consent(*, assume_yes: bool, stdin: TextIO, stderr: TextIO, directory: Path | None = None) -> bool:
    """True when the user has acknowledged the notice (now or before)."""
    directory = directory or config_dir()
    if has_consented(directory):
        return True
    stderr.write(NOTICE)
    if assume_yes:
        record_consent(directory)
        return True
    if not stdin.isatty():
        stderr.write("Not a terminal: re-run with --yes-i-understand to acknowledge.\n")
        return False
    stderr.write("Type 'I understand' to continue: ")
    stderr.flush()
    if stdin.readline().strip().lower() != "i understand":
        return False
    record_consent(directory)
    return True
