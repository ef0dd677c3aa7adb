"""Why a record could not be used.

``BadRecord`` is raised by parsers for input that is malformed; readers and the
store turn it into a quarantine entry with its reason and source position, so
nothing is dropped silently.  Programmer errors are left as ordinary exceptions.
"""

from __future__ import annotations


class BadRecord(ValueError):
    """A record that cannot be parsed or does not satisfy the format's contract."""

    def __init__(self, reason: str, *, category: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.category = category or reason  # what summaries group by: a reason without its details
