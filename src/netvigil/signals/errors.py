"""The one error importers raise: which file, which line, what is wrong with it.

A malformed row stops the import instead of being skipped: a signal with a hole
nobody was told about would read as an outage (or hide one).
"""

from __future__ import annotations

from pathlib import Path


class SignalFormatError(ValueError):
    """Input that does not match its format; ``line`` is 1-based as editors count, 0 for the whole file."""

    def __init__(self, path: str | Path, line: int, reason: str) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {reason}")
        self.path = str(path)
        self.line = line
        self.reason = reason
