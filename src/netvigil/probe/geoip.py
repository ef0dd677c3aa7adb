"""Country and network of the probe from user-supplied MaxMind databases.

Readers are duck-typed (``get(ip) -> dict | None``) so tests need no database
file; country databases give ``country.iso_code``, ASN databases
``autonomous_system_number`` / ``autonomous_system_organization``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

HIDDEN_CC, HIDDEN_ASN = "ZZ", "AS0"


class Reader(Protocol):
    def get(self, ip: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class Location:
    cc: str = HIDDEN_CC
    asn: str = HIDDEN_ASN
    network_name: str | None = None


def open_readers(paths: Iterable[Path]) -> list[Reader]:
    import maxminddb  # only needed when databases are given

    return [maxminddb.open_database(str(path)) for path in paths]


def locate(ip: str, readers: Iterable[Reader]) -> Location:
    cc, asn, name = HIDDEN_CC, HIDDEN_ASN, None
    for reader in readers:
        record = reader.get(ip)
        if not isinstance(record, dict):
            continue
        iso = (record.get("country") or {}).get("iso_code")
        cc = iso.upper() if isinstance(iso, str) and cc == HIDDEN_CC else cc
        number = record.get("autonomous_system_number")
        if isinstance(number, int) and asn == HIDDEN_ASN:
            asn, name = f"AS{number}", record.get("autonomous_system_organization")
    return Location(cc, asn, name)
