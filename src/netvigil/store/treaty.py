"""Legal context per country: the 2019 UN vote, the Budapest Convention, the 2024 UN convention.

Read at run time from ``$NETVIGIL_SHARED_DATA/treaty_context`` (``treaty_context.csv``
and its ``SOURCES.md``), never copied into the repository.  Three positions per
state, each with the sources that state it:

- the recorded vote on UN General Assembly resolution A/RES/74/247 of 27 December
  2019, which opened the UN cybercrime-convention process;
- the status under the Council of Europe's Budapest Convention (ETS 185);
- whether the state signed the 2024 UN Convention against Cybercrime.

Anything the table does not state (no file, no row, an empty or ``unknown``
value) is ``unknown``, never a guess.  The table's row-level ``sources`` list is
split per position by which document each source id is (see SOURCES.md).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pycountry

from netvigil.store.reference_data import shared_data_dir

FOLDER = "treaty_context"
UNKNOWN = "unknown"
RESOLUTION = "A/RES/74/247"
# Which position each source id documents (SOURCES.md, sections 1 to 3).
_VOTE_SOURCES = frozenset({"UNV", "PRESS", "BGM", "L11"})
_BUDAPEST_SOURCES = frozenset({"COEP", "COE15", "COE04", "NLG20", "TRB07", "CLN15", "COE24", "COE24b", "COENG22",
                               "NLW", "MOFA12"})
_UN2024_SOURCES = frozenset({"NLU", "UNTC", "NSH"})
VOTE_WORDS = {"yes": "voted yes (in favour)", "no": "voted no (against)", "abstain": "abstained",
              "non-voting": "recorded no vote", UNKNOWN: UNKNOWN}
BUDAPEST_WORDS = {"party": "party", "party_as_of_2015": "party as of 2015 (not re-verified since)",
                  "signatory": "signed, not ratified", "not_party": "not a party", UNKNOWN: UNKNOWN}
UN2024_WORDS = {"yes": "signed", "no": "not signed", UNKNOWN: UNKNOWN}
_URL = re.compile(r"https?://[^\s)`;,]+")
_GITHUB = re.compile(r"GitHub `([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)`")


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    text: str  # the description in SOURCES.md
    url: str | None
    dated: str


@dataclass(frozen=True, slots=True)
class Position:
    """One treaty position: the coded value, its plain-language wording, and its sources."""

    value: str
    words: str
    sources: tuple[Source, ...]


@dataclass(frozen=True, slots=True)
class LegalContext:
    cc: str
    country: str
    vote: Position
    budapest: Position
    budapest_in_force_year: str | None
    un_convention_2024: Position
    available: bool  # False when the treaty table is absent: every position is unknown

    def to_dict(self) -> dict[str, object]:
        def pos(p: Position) -> dict[str, object]:
            return {"value": p.value, "words": p.words,
                    "sources": [{"id": s.id, "description": s.text, "url": s.url, "dated": s.dated}
                                for s in p.sources]}
        return {"probe_cc": self.cc, "country": self.country, "available": self.available,
                "unga_74_247_vote": pos(self.vote), "budapest": pos(self.budapest),
                "budapest_in_force_year": self.budapest_in_force_year,
                "un_convention_2024_signed": pos(self.un_convention_2024)}


def folder() -> Path:
    return shared_data_dir() / FOLDER


def legal_context(cc: str) -> LegalContext:
    """The three positions of the country with ISO alpha-2 code ``cc``; ``unknown`` where not stated."""
    rows, sources = _load(folder())
    found = pycountry.countries.get(alpha_2=cc) if len(cc) == 2 else None
    row = rows.get(found.alpha_3) if found else None
    name = (row or {}).get("country") or (getattr(found, "common_name", None) or getattr(found, "name", None)
                                          if found else "unknown country")
    if row is None:
        missing = Position(UNKNOWN, UNKNOWN, ())
        return LegalContext(cc, str(name), missing, missing, None, missing, available=bool(rows))
    ids = [s.strip() for s in (row.get("sources") or "").split(";") if s.strip()]

    def position(column: str, words: dict[str, str], kinds: frozenset[str]) -> Position:
        value = (row.get(column) or "").strip() or UNKNOWN
        value = value if value in words else UNKNOWN
        cited = () if value == UNKNOWN else tuple(sources.get(i, Source(i, i, None, "")) for i in ids if i in kinds)
        return Position(value, words[value], cited)

    year = (row.get("budapest_in_force_year") or "").strip() or None
    return LegalContext(cc, str(name), position("unga_74_247_vote", VOTE_WORDS, _VOTE_SOURCES),
                        position("budapest_status", BUDAPEST_WORDS, _BUDAPEST_SOURCES), year,
                        position("un_convention_2024_signed", UN2024_WORDS, _UN2024_SOURCES), available=True)


def all_votes() -> list[dict[str, str]]:
    """Every state in the table with its alpha-2 and numeric code and its 2019 vote (for the map)."""
    rows, _ = _load(folder())
    out = []
    for alpha3, row in sorted(rows.items()):
        found = pycountry.countries.get(alpha_3=alpha3)
        if found is None:
            continue
        vote = (row.get("unga_74_247_vote") or "").strip()
        out.append({"probe_cc": found.alpha_2, "numeric": found.numeric, "name": row.get("country") or found.name,
                    "vote": vote if vote in VOTE_WORDS else UNKNOWN})
    return out


@lru_cache(maxsize=4)
def _load(where: Path) -> tuple[dict[str, dict[str, str]], dict[str, Source]]:
    """The table's rows by alpha-3 code and the sources by id; both empty when the folder is absent."""
    table = where / "treaty_context.csv"
    if not table.is_file():
        return {}, {}
    with table.open(newline="", encoding="utf-8") as handle:
        rows = {r["iso3"].strip(): r for r in csv.DictReader(handle) if (r.get("iso3") or "").strip()}
    notes = where / "SOURCES.md"
    return rows, _sources(notes.read_text(encoding="utf-8")) if notes.is_file() else {}


def _sources(markdown: str) -> dict[str, Source]:
    """The ``| id | source | date |`` table of SOURCES.md."""
    found = {}
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not re.fullmatch(r"[A-Z][A-Za-z0-9]{1,12}", cells[0]):
            continue
        url = _URL.search(cells[1])
        repo = _GITHUB.search(cells[1])
        link = url.group(0) if url else (f"https://github.com/{repo.group(1)}" if repo else None)
        found[cells[0]] = Source(cells[0], cells[1], link, cells[2])
    return found
