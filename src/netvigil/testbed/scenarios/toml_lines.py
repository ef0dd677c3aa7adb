"""Where a key of a TOML document is written, for error messages.

``tomllib`` returns plain dictionaries without positions, so a validation error
found after parsing would otherwise only name a key.  This scanner reads the
document line by line, follows table headers (``[a."b.c"]``, ``[[a]]``) and
key lines (``k = ...``, dotted keys, inline tables' first line), and records the
first line of every key path.  Paths use the array index for ``[[a]]`` tables:
``("dns", 1, "action")`` is the ``action`` of the second ``[[dns]]`` table.
Lines inside multi-line strings are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

KeyPath = tuple[str | int, ...]

_BARE_OR_QUOTED = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([A-Za-z0-9_-]+))\s*')


def _split_key(text: str) -> tuple[str, ...] | None:
    """``a."b.c".d`` -> ("a", "b.c", "d"); None when ``text`` is not a key."""
    parts: list[str] = []
    pos = 0
    while True:
        m = _BARE_OR_QUOTED.match(text, pos)
        if not m or m.end() == pos:
            return None
        parts.append(next(g for g in m.groups() if g is not None))
        pos = m.end()
        if pos == len(text):
            return tuple(parts)
        if text[pos] != ".":
            return None
        pos += 1


def _key_of_line(line: str) -> tuple[str, ...] | None:
    """The key of a ``key = value`` line, or None."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "=":
            return _split_key(line[:i])
    return None


class LineIndex:
    """First line (1-based) of every key path and table header of a document."""

    def __init__(self, text: str) -> None:
        self._lines: dict[KeyPath, int] = {}
        array_counts: dict[tuple[str, ...], int] = {}
        table: KeyPath = ()
        in_string: str | None = None
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if in_string:
                if line.count(in_string) % 2 == 1:
                    in_string = None
                continue
            if not line or line.startswith("#"):
                continue
            if line.startswith("[["):
                key = _split_key(line[2:line.find("]]")])
                if key is not None:
                    index = array_counts.get(key, 0)
                    array_counts[key] = index + 1
                    table = (*key, index)
                    self._record(table, number)
                continue
            if line.startswith("["):
                key = _split_key(line[1:line.find("]")])
                if key is not None:
                    table = self._with_indexes(key, array_counts)
                    self._record(table, number)
                continue
            key = _key_of_line(line)
            if key is not None:
                self._record((*table, *key), number)
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    in_string = quote

    @staticmethod
    def _with_indexes(key: tuple[str, ...], array_counts: dict[tuple[str, ...], int]) -> KeyPath:
        """A sub-table of the last ``[[a]]`` gets that table's index: [a.b] -> (a, n, b)."""
        for cut in range(len(key), 0, -1):
            count = array_counts.get(key[:cut])
            if count:
                return (*key[:cut], count - 1, *key[cut:])
        return key

    def _record(self, path: KeyPath, number: int) -> None:
        self._lines.setdefault(path, number)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of ``path``, else of its closest enclosing key or table."""
        for cut in range(len(path), 0, -1):
            found = self._lines.get(tuple(path[:cut]))
            if found is not None:
                return found
        return None
