"""Readable names for the places measurements come from.

OONI writes ``ZZ`` (and ``AS0``) when a probe could not tell where it was; such a
code is never a country, so people read "unknown country" instead.
"""

from __future__ import annotations

import pycountry

UNKNOWN_COUNTRY = "unknown country"
UNKNOWN_CODES = frozenset({"ZZ", "XX", ""})


def country_label(cc: str | None) -> str:
    """A country's common name; "unknown country" for ZZ and for codes ISO 3166 does not know."""
    if cc is None or cc.upper() in UNKNOWN_CODES:
        return UNKNOWN_COUNTRY
    found = pycountry.countries.get(alpha_2=cc.upper()) if len(cc) == 2 else None
    if found is None:
        return UNKNOWN_COUNTRY
    return getattr(found, "common_name", None) or found.name


def network_label(asn: str | None) -> str:
    return "unknown network" if not asn or asn == "AS0" else asn
