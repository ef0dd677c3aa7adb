"""Typed reads from a parsed TOML table, with errors a person can act on.

Every read names the key; a failure raises :class:`ScenarioError` carrying the
file, the line (found by :class:`~netvigil.testbed.scenarios.toml_lines.LineIndex`) and
the section in words, e.g.::

    iran.toml, line 14, in the 2nd [[dns]] rule: key "action": "nxdomian" is not
    one of nxdomain, timeout, forge, inject

A table must be read completely: :meth:`Table.finish` refuses keys nobody
asked for, so a misspelt key is an error instead of being ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, time
from enum import StrEnum
from typing import Any, NoReturn, TypeVar

from netvigil.testbed.scenarios.toml_lines import KeyPath, LineIndex

E = TypeVar("E", bound=StrEnum)
_ORDINALS = {1: "st", 2: "nd", 3: "rd"}
_NAMED_SECTIONS = frozenset({"sites", "clients", "hosts", "pages"})


class _Required:
    """The default of a key that must be present."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message says where and why."""

    def __init__(self, message: str, *, source: str, line: int | None) -> None:
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {message}")
        self.source = source
        self.line = line


class Document:
    """The parsed document, its source name and its line index."""

    def __init__(self, data: dict[str, Any], text: str, source: str) -> None:
        self.root = Table(data, (), self)
        self.source = source
        self._index = LineIndex(text)

    def fail(self, path: KeyPath, message: str) -> NoReturn:
        raise ScenarioError(f"{section_words(path)}{message}", source=self.source,
                            line=self._index.line_of(path))


def section_words(path: KeyPath) -> str:
    """``("dns", 1, "action")`` -> 'in the 2nd [[dns]] rule: key "action": '."""
    if not path:
        return ""
    if len(path) >= 2 and isinstance(path[1], int):
        n = path[1] + 1
        suffix = "th" if 10 <= n % 100 <= 20 else _ORDINALS.get(n % 10, "th")
        section, rest = f"the {n}{suffix} [[{path[0]}]] rule", path[2:]
    elif len(path) >= 2 and path[0] in _NAMED_SECTIONS:
        section, rest = f'[{path[0]}."{path[1]}"]', path[2:]
    else:
        section, rest = f"[{path[0]}]", path[1:]
    if not rest:
        return f"in {section}: "
    return f"in {section}: key \"{'.'.join(str(p) for p in rest)}\": "


class Table:
    """One TOML table being read; ``path`` is where it sits in the document."""

    def __init__(self, data: dict[str, Any], path: KeyPath, doc: Document) -> None:
        self.data = data
        self.path = path
        self._doc = doc
        self._read: set[str] = set()

    def fail(self, key: str | None, message: str) -> NoReturn:
        self._doc.fail(self.path if key is None else (*self.path, key), message)

    def has(self, key: str) -> bool:
        return key in self.data

    def _get(self, key: str, kind: type | tuple[type, ...], kind_words: str, default: Any) -> Any:
        self._read.add(key)
        if key not in self.data:
            if default is REQUIRED:
                self.fail(None, f'the key "{key}" is missing')
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
            self.fail(key, f"expected {kind_words}, found {_shown(value)}")
        return value

    def text(self, key: str, default: Any = REQUIRED) -> Any:
        return self._get(key, str, "a string", default)

    def integer(self, key: str, default: Any = REQUIRED, *, minimum: int | None = None,
                maximum: int | None = None) -> Any:
        value = self._get(key, int, "an integer", default)
        if isinstance(value, int):
            self._check_range(key, value, minimum, maximum)
        return value

    def number(self, key: str, default: float, *, minimum: float, maximum: float) -> float:
        value = self._get(key, (int, float), "a number", default)
        self._check_range(key, value, minimum, maximum)
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        return self._get(key, bool, "true or false", default)

    def moment(self, key: str, default: Any = REQUIRED) -> Any:
        """An offset-aware datetime or a time of day (TOML ``2019-11-16T14:00:00Z``, ``18:30:00``)."""
        value = self._get(key, (datetime, time), "a date-time with an offset (2019-11-16T14:00:00Z) "
                          "or a time of day (18:30:00)", default)
        if isinstance(value, datetime) and value.utcoffset() is None:
            self.fail(key, f"{_shown(value)} has no offset: write it in UTC with a final Z")
        return value

    def choice(self, key: str, enum: type[E], default: Any = REQUIRED) -> E:
        raw = self.text(key, default)
        if isinstance(raw, enum):
            return raw
        try:
            return enum(raw)
        except ValueError:
            self.fail(key, f"{_shown(raw)} is not one of {', '.join(e.value for e in enum)}")

    def names(self, key: str) -> tuple[str, ...]:
        """A string or a non-empty list of strings."""
        value = self._get(key, (str, list), "a string or a list of strings", ())
        items = [value] if isinstance(value, str) else value
        if key in self.data and (not items or not all(isinstance(i, str) and i for i in items)):
            self.fail(key, f"expected a string or a non-empty list of strings, found {_shown(value)}")
        return tuple(items)

    def table(self, key: str) -> Table | None:
        value = self._get(key, dict, "a table", None)
        return None if value is None else Table(value, (*self.path, key), self._doc)

    def subtables(self, key: str) -> Iterator[tuple[str, Table]]:
        """The tables of ``[key.NAME]`` sections, by name."""
        holder = self.table(key)
        if holder is None:
            return
        for name in holder.data:
            sub = holder.table(name)
            assert sub is not None
            yield name, sub
        holder.finish()

    def array(self, key: str) -> Iterator[Table]:
        """The tables of ``[[key]]`` sections, in order."""
        value = self._get(key, list, f"[[{key}]] tables", [])
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                self._doc.fail((*self.path, key, i), f"expected a [[{key}]] table, found {_shown(item)}")
            yield Table(item, (*self.path, key, i), self._doc)

    def check(self, key: str | None, ok: bool, message: str | Callable[[], str]) -> None:
        if not ok:
            self.fail(key, message() if callable(message) else message)

    def finish(self) -> None:
        unknown = [k for k in self.data if k not in self._read]
        if unknown:
            known = ", ".join(sorted(self._read)) or "none"
            self.fail(unknown[0], f"unknown key (this section knows: {known})")

    def _check_range(self, key: str, value: float, minimum: float | None, maximum: float | None) -> None:
        if minimum is not None and value < minimum:
            self.fail(key, f"{value} is below the minimum {minimum}")
        if maximum is not None and value > maximum:
            self.fail(key, f"{value} is above the maximum {maximum}")


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)
