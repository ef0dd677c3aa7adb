"""Header fingerprints in one automaton give exactly the matches of testing each pattern on each header."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netvigil.analysis.fingerprints import REGEX_FLAGS, Fingerprint, FingerprintDB
from netvigil.store.reference_data import load_ooni_fingerprints, shared_data_dir


def reference_matches(fingerprints: list[Fingerprint], headers: list[tuple[str, str]]) -> set[str]:
    """The matcher's contract, written the obvious way: every header against every pattern of its name."""
    found = set()
    for name, value in headers:
        for fp in fingerprints:
            if fp.location != "header." + name.lower():
                continue
            kind, pattern = fp.pattern_type, fp.pattern
            if (
                (kind == "full" and value == pattern)
                or (kind == "prefix" and value.startswith(pattern))
                or (kind == "contains" and pattern in value)
                or (kind == "regexp" and re.search(pattern, value, REGEX_FLAGS))
            ):
                found.add(fp.fingerprint_id)
    return found


def header_ids(db: FingerprintDB, headers: list[tuple[str, str]]) -> set[str]:
    """Every fingerprint that matched, including false positives a specific one suppressed."""
    resolved = db.resolve_http(None, headers)
    return {m.fingerprint_id for m in resolved.matches + resolved.suppressed}


def hfp(fingerprint_id: str, name: str, kind: str, pattern: str) -> Fingerprint:
    return Fingerprint(fingerprint_id, "ooni", "isp", f"header.{name}", kind, pattern)


SMALL = [
    hfp("full", "location", "full", "http://a.example/"),
    hfp("prefix", "location", "prefix", "http://b"),
    hfp("contains", "location", "contains", "block"),
    hfp("server", "server", "full", "Filter"),
    hfp("regex", "via", "regexp", r"wsa\d+"),
    hfp("regex_ci", "via", "regexp", r"(?i)proxy-\d"),
    hfp("regex_none", "x-app", "regexp", r"\d{3}"),
]

CASES = {
    "full needs the whole value": ([("Location", "http://a.example/x")], set()),
    "full": ([("Location", "http://a.example/")], {"full"}),
    "prefix at the start only": ([("Location", "x http://b")], set()),
    "prefix in the second of two Locations": ([("Location", "/"), ("location", "http://b/?u")], {"prefix"}),
    "contains anywhere": ([("Location", "http://c/blocked")], {"contains"}),
    "another header's pattern": ([("Server", "http://b/block")], set()),
    "names are case-insensitive": ([("SERVER", "Filter")], {"server"}),
    "a NUL in a value cannot fake a prefix": ([("Location", "x\x00http://b")], set()),
    "a value that is a NUL-joined full value": ([("Location", "http://a.example/\x00")], set()),
    "regex by its literal": ([("Via", "1.1 wsa07")], {"regex"}),
    "case-insensitive regex always runs": ([("Via", "PROXY-4")], {"regex_ci"}),
    "regex without a literal always runs": ([("X-App", "v123")], {"regex_none"}),
    "lone surrogates do not break the scan": ([("Location", "http://b\udc80/block")], {"prefix", "contains"}),
}


@pytest.mark.parametrize("name", CASES)
def test_header_cases(name: str) -> None:
    headers, expected = CASES[name]
    db = FingerprintDB(SMALL)
    assert header_ids(db, headers) == expected
    assert reference_matches(SMALL, headers) == expected


_VALUE_PARTS = st.sampled_from(
    ["http://a.example/", "http://b", "block", "Filter", "wsa07", "PROXY-1", "\x00", "x", "/", "123", "é"]
)
_HEADERS = st.lists(
    st.tuples(
        st.sampled_from(["Location", "location", "Server", "Via", "X-App", "Date"]),
        st.lists(_VALUE_PARTS, max_size=4).map("".join),
    ),
    max_size=5,
)


@settings(max_examples=300, deadline=None, database=None)
@given(headers=_HEADERS)
def test_automaton_agrees_with_checking_every_pattern(headers: list[tuple[str, str]]) -> None:
    assert header_ids(FingerprintDB(SMALL), headers) == reference_matches(SMALL, headers)


# --- the real header fingerprints ----------------------------------------------

DATA = shared_data_dir()


@pytest.fixture(scope="module")
def real_headers() -> list[Fingerprint]:
    if not DATA.is_dir():
        pytest.skip(f"shared data directory {DATA} is absent")
    everything = load_ooni_fingerprints(
        DATA / "ooni-blocking-fingerprints/fingerprints_dns.csv",
        DATA / "ooni-blocking-fingerprints/fingerprints_http.csv",
    )
    return [fp for fp in everything if fp.location.startswith("header.")]


def test_real_header_fingerprints_agree_with_checking_every_pattern(real_headers: list[Fingerprint]) -> None:
    """Each real pattern's own value, a longer one, a shortened one and a neighbour's, all at once and alone."""
    db = FingerprintDB(real_headers)
    assert len(real_headers) >= 400
    probes: list[list[tuple[str, str]]] = []
    for fp in real_headers:
        name = fp.location.removeprefix("header.").title()
        probes += [
            [(name, fp.pattern)],
            [(name, fp.pattern + "/x?y=1")],
            [(name, "go " + fp.pattern)],
            [(name, fp.pattern[:-1])],
            [("Date", "x"), (name, "http://ok.example/"), (name, fp.pattern)],
        ]
    matched = 0
    for headers in probes:
        expected = reference_matches(real_headers, headers)
        assert header_ids(db, headers) == expected, headers
        matched += bool(expected)
    assert matched >= len(real_headers) * 3  # the probes do hit: the comparison is not vacuous
