"""Who holds a database file, and where its ``serve`` can be reached.

DuckDB lets one process open a file for writing and, while it does, no other
process at all (not even read-only).  So ``netvigil serve`` leaves its address
beside the database (``<db>.serve.json``: process id and URL) while it runs,
and a command that finds the file locked either goes through that server's API
(``netvigil report``) or says, in one line, which process holds the file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import orjson

# DuckDB names the holder "(PID 123)"; store.schema.connect says "process 123 holds it".
_PID = re.compile(r"\(PID (\d+)\)|process (\d+) holds it")


@dataclass(frozen=True, slots=True)
class Holder:
    pid: int | None
    command: str  # its command line, or "" when it cannot be read
    url: str | None = None  # the API of the serve process holding it, when it is one


def address_file(db_path: Path) -> Path:
    return Path(f"{db_path}.serve.json")


def announce(db_path: Path, url: str) -> Path:
    """Write this process's address beside the database (removed by :func:`withdraw`)."""
    path = address_file(db_path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(orjson.dumps({"pid": os.getpid(), "url": url}))
    return tmp.replace(path)


def withdraw(db_path: Path) -> None:
    path = address_file(db_path)
    try:
        if orjson.loads(path.read_bytes()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, orjson.JSONDecodeError, AttributeError):
        pass


def holder(db_path: Path, error: str) -> Holder | None:
    """The process DuckDB names in a lock error, with its serve URL when it left one; None otherwise."""
    match = _PID.search(error)
    if match is None:
        return None
    pid = int(match.group(1) or match.group(2))
    url = None
    try:
        announced = orjson.loads(address_file(db_path).read_bytes())
        if isinstance(announced, dict) and announced.get("pid") == pid and isinstance(announced.get("url"), str):
            url = announced["url"]
    except (OSError, orjson.JSONDecodeError):
        pass
    return Holder(pid, _command(pid), url)


def describe(db_path: Path, who: Holder) -> str:
    command = f" ({who.command})" if who.command else ""
    where = f", serving {who.url}" if who.url else ""
    return f"{db_path} is held by process {who.pid}{command}{where}"


def _command(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return " ".join(part.decode("utf-8", "replace") for part in raw.split(b"\0") if part)[:200]
