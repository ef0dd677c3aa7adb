"""Where URLs come from: Citizen Lab test lists, a file of URLs, the command line."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Input:
    url: str
    category_code: str = ""


class InputError(ValueError):
    """A list that cannot be read (missing file, no url column)."""


def read_test_lists(lists_dir: Path, *, country: str | None = None,
                    categories: Iterable[str] = ()) -> list[Input]:
    """``global.csv`` plus ``<country>.csv`` (citizenlab/test-lists ``lists/``), optionally
    only the given category codes; the first occurrence of a URL wins."""
    names = ["global.csv"] + ([f"{country.lower()}.csv"] if country else [])
    wanted = {c.strip().upper() for c in categories if c.strip()}
    found: list[Input] = []
    for name in names:
        found += [i for i in _read_csv(lists_dir / name) if not wanted or i.category_code in wanted]
    return unique(found)


def _read_csv(path: Path) -> list[Input]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "url" not in reader.fieldnames:
                raise InputError(f"{path}: no 'url' column")
            return [Input(row["url"].strip(), (row.get("category_code") or "").strip().upper())
                    for row in reader if (row.get("url") or "").strip()]
    except OSError as exc:
        raise InputError(f"cannot read test list {path}: {exc.strerror}") from exc


def read_url_file(path: Path) -> list[Input]:
    """One URL per line; blank lines and ``#`` comments are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    return unique(Input(line.strip()) for line in lines if line.strip() and not line.lstrip().startswith("#"))


def unique(inputs: Iterable[Input]) -> list[Input]:
    seen: dict[str, Input] = {}
    for item in inputs:
        seen.setdefault(item.url, item)
    return list(seen.values())
