"""OONI pipeline ``analysis_web_measurement`` rows written as SQL ``INSERT`` statements.

ooni/data ships its Uganda event-detection fixture this way
(``oonipipeline/tests/data/ug-analysis.sql``).  Only the subset of SQL such a dump
uses is read: ``INSERT INTO t (cols) VALUES (...), (...);`` with quoted strings,
numbers and ``NULL``.  Anything else is an error naming its line.

Each row becomes one anomaly-rate point for ``<probe_cc>/AS<probe_asn>/<domain>``:
the highest ``blocked`` score of its DNS, TCP and TLS layers (ooni/data's
per-layer ``(blocked, down, ok)`` scores, research notes ooni-format §7.4).  A
row whose layers hold no score at all measured nothing and is skipped, with the
count in :attr:`Imported.skipped`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from netvigil.detect.records import SignalKind, SignalPoint
from netvigil.signals.errors import SignalFormatError
from netvigil.signals.imported import Imported

SOURCE = "ooni.analysis"
LAYERS = ("dns", "tcp", "tls")
SCORES = tuple(f"{layer}_{score}" for layer in LAYERS for score in ("blocked", "down", "ok"))

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^'\\]|\\.|'')*')
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
  | (?P<name>`[^`]+`|[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<punct>[(),;])
""", re.VERBOSE)


def read_ooni_sql(path: str | Path) -> Imported:
    path = Path(path)
    points, empty = [], 0
    for line, row in parse_inserts(path):
        try:
            point = row_point(row)
        except (KeyError, TypeError, ValueError) as exc:
            raise SignalFormatError(path, line, f"bad analysis row: {exc!r}") from exc
        if point is None:
            empty += 1
        else:
            points.append(point)
    skipped = (f"{path}: {empty} rows with no DNS/TCP/TLS score skipped",) if empty else ()
    return Imported(points=points, skipped=skipped)


def row_point(row: dict[str, Any]) -> SignalPoint | None:
    """One analysis row as an anomaly-rate point, or None when it scored nothing."""
    scores = {name: float(row[name] or 0.0) for name in SCORES}
    if not any(scores.values()):
        return None
    entity = f"{row['probe_cc']}/AS{int(row['probe_asn'])}/{row['domain']}"
    time = datetime.fromisoformat(str(row["measurement_start_time"])).replace(tzinfo=UTC)
    blocked = max(scores[f"{layer}_blocked"] for layer in LAYERS)
    return SignalPoint(entity=entity, source=SOURCE, time=time, value=blocked, kind=SignalKind.ANOMALY_RATE)


def parse_inserts(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every row of every ``INSERT`` in the file, with the line its tuple starts on."""
    text = path.read_text(encoding="utf-8")
    tokens = _Tokens(path, text)
    while tokens.peek() is not None:
        yield from _insert(tokens)


def _insert(tokens: _Tokens) -> Iterator[tuple[int, dict[str, Any]]]:
    for word in ("INSERT", "INTO"):
        tokens.expect_name(word)
    tokens.take("name")
    columns = [str(c) for c in tokens.tuple()]
    tokens.expect_name("VALUES")
    while True:
        line = tokens.line()
        values = tokens.tuple()
        if len(values) != len(columns):
            raise SignalFormatError(tokens.path, line, f"{len(values)} values for {len(columns)} columns")
        yield line, dict(zip(columns, values, strict=True))
        if tokens.peek() != ",":
            break
        tokens.take("punct")
    if tokens.peek() == ";":
        tokens.take("punct")


class _Tokens:
    """A cursor over the SQL tokens of one file, skipping whitespace, knowing line numbers."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self._newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        self._items = [(str(m.lastgroup), m.group(), m.start()) for m in self._scan(text)]
        self._i = 0
        self._end = len(text)

    def _scan(self, text: str) -> Iterator[re.Match[str]]:
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                line = bisect.bisect_left(self._newlines, pos) + 1
                raise SignalFormatError(self.path, line, f"unexpected {text[pos:pos + 20]!r}")
            if m.lastgroup != "space":
                yield m
            pos = m.end()

    def line(self) -> int:
        pos = self._items[self._i][2] if self._i < len(self._items) else self._end
        return bisect.bisect_left(self._newlines, pos) + 1

    def error(self, reason: str) -> SignalFormatError:
        return SignalFormatError(self.path, self.line(), reason)

    def peek(self) -> str | None:
        return self._items[self._i][1] if self._i < len(self._items) else None

    def take(self, kind: str) -> str:
        if self._i >= len(self._items) or self._items[self._i][0] != kind:
            raise self.error(f"expected {kind}, found {self.peek()!r}")
        self._i += 1
        return self._items[self._i - 1][1]

    def expect_name(self, word: str) -> None:
        if (self.peek() or "").upper() != word:
            raise self.error(f"expected {word}, found {self.peek()!r}")
        self.take("name")

    def tuple(self) -> list[Any]:
        """``( literal, ... )``; names come back unquoted, strings unescaped, numbers as numbers."""
        if self.take("punct") != "(":
            raise self.error("expected '('")
        values = []
        while True:
            values.append(self._literal())
            sep = self.take("punct")
            if sep == ")":
                return values
            if sep != ",":
                raise self.error(f"expected ',' or ')', found {sep!r}")

    def _literal(self) -> Any:
        kind, text, _ = self._items[self._i] if self._i < len(self._items) else (None, None, 0)
        if kind not in ("string", "number", "name"):
            raise self.error(f"expected a value, found {text!r}")
        self._i += 1
        if kind == "string":
            return re.sub(r"\\(.)|''", lambda m: m.group(1) or "'", text[1:-1])
        if kind == "number":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if text.upper() == "NULL":
            return None
        return text.strip("`")
