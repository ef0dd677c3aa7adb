"""Legal context read from the shared treaty table: values, sources, and "unknown" where unstated."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from netvigil.store import treaty

SHARED = Path(os.environ.get("NETVIGIL_SHARED_DATA", "../shared/data")) / treaty.FOLDER
needs_data = pytest.mark.skipif(not (SHARED / "treaty_context.csv").is_file(),
                                reason="NETVIGIL_SHARED_DATA/treaty_context is absent")


@needs_data
def test_the_2019_vote_totals_match_the_published_roll_call() -> None:
    votes = Counter(v["vote"] for v in treaty.all_votes())
    assert (votes["yes"], votes["no"], votes["abstain"], votes["non-voting"]) == (79, 60, 33, 21)


# country -> (vote, Budapest status, 2024 signature), as the table states them
POSITIONS = {
    "IR": ("yes", "not_party", "yes"),
    "UG": ("yes", "unknown", "unknown"),
    "US": ("no", "party_as_of_2015", "no"),
    "IE": ("no", "signatory", "yes"),
    "AF": ("non-voting", "not_party", "no"),
}


@needs_data
@pytest.mark.parametrize("cc", POSITIONS)
def test_positions_and_their_sources(cc: str) -> None:
    found = treaty.legal_context(cc)
    assert (found.vote.value, found.budapest.value, found.un_convention_2024.value) == POSITIONS[cc]
    for position in (found.vote, found.budapest, found.un_convention_2024):
        if position.value == treaty.UNKNOWN:
            assert position.sources == () and position.words == "unknown"
        else:
            assert position.sources, (cc, position)
    assert {s.id for s in found.vote.sources} == {"UNV"}
    assert found.vote.sources[0].url == "https://github.com/dgrtwo/unvotes"


def test_everything_is_unknown_without_the_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETVIGIL_SHARED_DATA", str(tmp_path))
    found = treaty.legal_context("IR")
    assert not found.available and found.country == "Iran"
    assert {found.vote.value, found.budapest.value, found.un_convention_2024.value} == {"unknown"}
    assert treaty.all_votes() == []


def test_values_outside_the_vocabulary_and_unknown_codes_are_unknown(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / treaty.FOLDER
    folder.mkdir()
    (folder / "treaty_context.csv").write_text(
        "iso3,country,unga_74_247_vote,budapest_status,budapest_in_force_year,un_convention_2024_signed,sources\n"
        "IRN,Iran,maybe,,,unknown,UNV;COEP\n", encoding="utf-8")
    monkeypatch.setenv("NETVIGIL_SHARED_DATA", str(tmp_path))
    found = treaty.legal_context("IR")
    assert found.available
    assert (found.vote.value, found.budapest.value, found.un_convention_2024.value) == ("unknown",) * 3
    assert found.vote.sources == ()  # a source is never cited for a value it does not state
    zz = treaty.legal_context("ZZ")
    assert zz.country == "unknown country" and zz.vote.value == "unknown"
