"""Country names and codes as the catalogs spell them, to ISO 3166-1 alpha-2.

``pycountry`` knows official names and codes; the catalogs also use common,
older or decorated names ("Myanmar/Burma", "Iran (Islamic Republic of)",
"Bosnia & Herzegovina").  :func:`country_codes` tries the name, then its parts.
"""

from __future__ import annotations

import re

import pycountry

# Names pycountry does not resolve, as they appear in IODA's investigated outages
# and Access Now STOP (checked against both files).
ALIASES = {
    "turkey": "TR", "swaziland": "SZ", "cape verde": "CV", "ivory coast": "CI", "timor leste": "TL", "drc": "CD",
    "congo (democratic republic of the)": "CD", "great britain": "GB",
    "macedonia": "MK", "palestine": "PS", "palestinian territories": "PS", "curacao": "CW",
    "reunion": "RE", "saint martin": "MF", "somaliland": "SO", "bonaire/sint eustatius/saba": "BQ",
}


def country_code(name_or_code: str) -> str | None:
    """Alpha-2 code of one country written as a name, an alpha-2 or an alpha-3 code; None if unknown."""
    text = name_or_code.strip()
    if not text:
        return None
    alias = ALIASES.get(text.casefold())
    if alias:
        return alias
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        pass
    for part in _parts(text):
        code = country_code(part) if part != text else None
        if code:
            return code
    return None


def country_codes(field: str) -> tuple[str, ...]:
    """Codes of every country in a field that may list several (``"Laos; Myanmar"``); unknown names are left out."""
    codes = (country_code(name) for name in field.split(";"))
    return tuple(dict.fromkeys(code for code in codes if code))


def _parts(text: str) -> list[str]:
    """``"Myanmar/Burma"`` -> Myanmar, Burma; ``"Kyrgyz Republic (Kyrgyzstan)"`` -> Kyrgyzstan, Kyrgyz Republic."""
    inside = re.findall(r"\(([^)]*)\)", text)
    outside = re.sub(r"\([^)]*\)", "", text).strip()
    pieces = [*inside, outside, *outside.split("/"), outside.replace("&", "and")]
    return [p.strip() for p in pieces if p.strip()]
