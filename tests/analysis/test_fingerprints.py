"""Blockpage fingerprint matching: hand-made tables, a property test, real reference data."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netvigil.analysis.fingerprints import (
    MAX_BODY_SCAN,
    Fingerprint,
    FingerprintDB,
    FingerprintMatch,
    fold_case,
    required_literals,
)
from netvigil.store.reference_data import (
    load_builtin_fingerprints,
    load_censoredplanet_signatures,
    load_default_fingerprints,
    load_ooni_fingerprints,
    shared_data_dir,
)


def fp(
    fingerprint_id: str,
    pattern: str,
    pattern_type: str = "contains",
    location: str = "body",
    scope: str = "isp",
    countries: tuple[str, ...] = (),
    source: str = "ooni",
) -> Fingerprint:
    return Fingerprint(
        fingerprint_id=fingerprint_id,
        source=source,
        scope=scope,
        location=location,
        pattern_type=pattern_type,
        pattern=pattern,
        countries=countries,
        false_positive=scope == "fp",
    )


def ids(matches: list[FingerprintMatch]) -> list[str]:
    return [m.fingerprint_id for m in matches]


# --- body patterns ---------------------------------------------------------

BODY_CASES = [
    # (pattern_type, pattern, body, matches)
    ("contains", "blocked by order", "<p>This site is blocked by order of X</p>", True),
    ("contains", "blocked by order", "<p>This site is Blocked By Order</p>", False),
    ("full", "<HTML></HTML>", "<HTML></HTML>", True),
    ("full", "<HTML></HTML>", "<HTML></HTML>\n", False),
    ("prefix", "<html><head><title>Blocked", "<html><head><title>Blocked</title>", True),
    ("prefix", "<title>Blocked", "<html><title>Blocked", False),
    ("regexp", r"URL .* Sp.*er Gate", "URL http://x blocked by Spider Gate", True),
    ("regexp", r"URL .* Sp.*er Gate", "URL http://x blocked by Sp Gate", False),
    ("regexp", r"blocked\.", "site blocked.", True),
    ("regexp", r"blocked\.", "site blockedX", False),
    ("regexp", r"start.*end", "start\nof a page\nend", True),  # DOTALL, as Censored Planet
    ("regexp", r"(?:forbidden|verboten) page", "a verboten page", True),
    ("regexp", r"(?:forbidden|verboten) page", "a forbidden pag", False),
    ("regexp", r"colou?r red", "color red", True),
    ("regexp", r"(?i)access denied", "ACCESS DENIED", True),
    ("regexp", r"(?i)access denied", "ACCESS DENIES", False),
    ("regexp", r"(?i)sky", "\u017f\u212ay", True),  # long s and Kelvin sign are case variants
    ("regexp", r"(?i:DENIED) by ISP", "denied by ISP", True),
    ("regexp", r"(?i:DENIED) by ISP", "denied by isp", False),
    ("regexp", r"[0-9]+", "code 451", True),  # no literal: runs on every body
    ("regexp", r"[0-9]+", "no digits", False),
]


@pytest.mark.parametrize(("pattern_type", "pattern", "body", "expected"), BODY_CASES)
def test_body_pattern_types(pattern_type: str, pattern: str, body: str, expected: bool) -> None:
    db = FingerprintDB([fp("t", pattern, pattern_type)])
    assert (ids(db.match_http(body, [])) == ["t"]) is expected


def test_bytes_body_is_decoded_leniently() -> None:
    db = FingerprintDB([fp("word", "blocked"), fp("replacement", "\ufffd")])
    assert ids(db.match_http(b"\xff\xfe site blocked", [])) == ["word", "replacement"]
    assert db.match_http(None, []) == []


def test_only_the_first_part_of_a_huge_body_is_scanned() -> None:
    db = FingerprintDB([fp("t", "needle")])
    padding = "x" * MAX_BODY_SCAN
    assert ids(db.match_http("needle" + padding, [])) == ["t"]
    assert db.match_http(padding + "needle", []) == []
    assert db.match_http(padding.encode() + b"needle", []) == []


# --- headers ---------------------------------------------------------------

HEADER_CASES = [
    # (location, pattern_type, pattern, header, matches)
    ("header.location", "prefix", "http://block.example", ("Location", "http://block.example/?u=x"), True),
    ("header.location", "prefix", "http://block.example", ("Location", "https://block.example/"), False),
    ("header.server", "full", "SonicWALL", ("SERVER", "SonicWALL"), True),
    ("header.server", "full", "SonicWALL", ("Server", "SonicWALL 2"), False),
    ("header.via", "contains", "Cisco-WSA", ("Via", "1.1 wsa07 (Cisco-WSA/9.1.2-010)"), True),
    ("header.via", "regexp", r"wsa\d+", ("Via", "1.1 wsa07"), True),
    ("header.via", "regexp", r"wsa\d+", ("Via", "1.1 wsa"), False),
    ("header.via", "contains", "Cisco-WSA", ("Server", "Cisco-WSA"), False),  # other header
]


@pytest.mark.parametrize(("location", "pattern_type", "pattern", "header", "expected"), HEADER_CASES)
def test_header_patterns(
    location: str, pattern_type: str, pattern: str, header: tuple[str, str], expected: bool
) -> None:
    db = FingerprintDB([fp("h", pattern, pattern_type, location)])
    assert (ids(db.match_http("", [header])) == ["h"]) is expected


def test_header_pattern_does_not_match_body_and_vice_versa() -> None:
    db = FingerprintDB([fp("h", "SonicWALL", "contains", "header.server"), fp("b", "SonicWALL")])
    assert ids(db.match_http("SonicWALL", [])) == ["b"]
    assert ids(db.match_http("", [("Server", "SonicWALL")])) == ["h"]


# --- ordering, duplicates, DNS, version --------------------------------------


def test_false_positives_come_first_then_generic_blockpages_in_given_order() -> None:
    # Generic blockpages (issue 16: a specific one outranks false positives, see test_precedence.py).
    db = FingerprintDB(
        [
            fp("block_2", "blocked", scope="vbw", source="censoredplanet"),
            fp("block_1", "Access", "prefix", scope="prod", source="censoredplanet"),
            fp("cf", "Ray ID:", scope="fp"),
            fp("hdr_fp", "cloudflare", "full", "header.server", scope="fp"),
        ]
    )
    matches = db.match_http("Access blocked. Ray ID: 42", [("Server", "cloudflare")])
    assert ids(matches) == ["cf", "hdr_fp", "block_2", "block_1"]
    assert [m.false_positive for m in matches] == [True, True, False, False]


def test_same_id_with_two_patterns_is_reported_once() -> None:
    db = FingerprintDB(
        [
            fp("dup", "alpha", "regexp", source="censoredplanet"),
            fp("dup", "beta", "regexp", source="censoredplanet"),
        ]
    )
    assert ids(db.match_http("alpha beta", [])) == ["dup"]


def test_match_dns_is_exact_after_normalisation() -> None:
    db = FingerprintDB(
        [
            fp("v4", "10.10.34.35", "full", "dns", "nat", ("IR",)),
            fp("v4_again", "10.10.34.35", "full", "dns"),
            fp("v6", "2001:db8::1", "full", "dns"),
            fp("name", "Blocked.Example.", "full", "dns"),
        ]
    )
    assert db.match_dns("10.10.34.35") == FingerprintMatch("v4", "ooni", "nat", "dns", ("IR",), False)
    assert db.match_dns("2001:DB8:0:0::1").fingerprint_id == "v6"  # type: ignore[union-attr]
    assert db.match_dns("blocked.example").fingerprint_id == "name"  # type: ignore[union-attr]
    assert db.match_dns("10.10.34.3") is None
    assert db.match_http("10.10.34.35", []) == []  # DNS patterns are not body patterns


def test_version_depends_on_content_not_order() -> None:
    a, b = fp("a", "alpha"), fp("b", "beta")
    assert FingerprintDB([a, b]).version == FingerprintDB([b, a]).version
    assert FingerprintDB([a, b]).version != FingerprintDB([a, fp("b", "gamma")]).version
    assert len(FingerprintDB([a]).version) == 12


def test_empty_db_matches_nothing() -> None:
    db = FingerprintDB.empty()
    assert (db.size, db.skipped) == (0, [])
    assert db.match_http("anything", [("Server", "x")]) == []
    assert db.match_dns("10.10.34.35") is None


def test_bad_regex_is_skipped_and_reported() -> None:
    db = FingerprintDB(
        [fp("bad", "(unclosed", "regexp"), fp("good", "fine")], skipped=["row 3: missing name"]
    )
    assert db.size == 1
    assert db.skipped[0] == "row 3: missing name"
    assert db.skipped[1].startswith("ooni:bad: bad regexp")


@pytest.mark.parametrize(
    "changes",
    [
        {"pattern_type": "glob"},
        {"pattern": ""},
        {"source": "iclab"},
        {"location": "header.Server"},
        {"location": "header."},
        {"location": "cookie"},
        {"location": "dns", "pattern_type": "prefix"},
        {"scope": "fp", "false_positive": False},
    ],
)
def test_invalid_fingerprints_are_rejected(changes: dict[str, Any]) -> None:
    fields: dict[str, Any] = {
        "fingerprint_id": "x",
        "source": "ooni",
        "scope": "isp",
        "location": "body",
        "pattern_type": "contains",
        "pattern": "p",
    }
    with pytest.raises(ValueError):
        Fingerprint(**(fields | changes))


# --- confirms_blocking -------------------------------------------------------

CONFIRM_CASES = [
    # (source, scope, countries, probe_cc, confirms)
    ("ooni", "prod", (), "IT", True),  # no country listed: anywhere
    ("ooni", "prod", ("RU",), "RU", True),
    ("ooni", "inst", ("ID",), "id", True),
    ("ooni", "prod", ("RU",), "IT", False),
    ("ooni", "nat", ("RU",), "IT", True),  # national and ISP blockpages: any country
    ("ooni", "isp", ("RU",), "IT", True),
    ("ooni", "vbw", (), "IT", False),  # a vague blocking word alone never confirms
    ("ooni", "vbw", ("IT",), "IT", False),
    ("ooni", "fp", (), "IT", False),
    ("censoredplanet", "prod", ("RU",), "IT", True),
    ("censoredplanet", "unk", ("RU",), "IT", True),
    ("censoredplanet", "vbw", (), "IT", False),
    ("censoredplanet", "fp", (), "IT", False),
]


@pytest.mark.parametrize(("source", "scope", "countries", "probe_cc", "expected"), CONFIRM_CASES)
def test_confirms_blocking(
    source: str, scope: str, countries: tuple[str, ...], probe_cc: str, expected: bool
) -> None:
    match = FingerprintMatch("x", source, scope, "body", countries, scope == "fp")
    assert match.confirms_blocking(probe_cc) is expected


# --- required literal extraction ---------------------------------------------

LITERAL_CASES: list[tuple[str, set[tuple[str, bool]] | None]] = [
    ("Blocked page", {("Blocked page", False)}),
    (r"www\.internet\.gov\.sa", {("www.internet.gov.sa", False)}),
    (r"ab.cdef", {("cdef", False)}),
    (r"URL .* Sp.*er Gate", {("er Gate", False)}),
    (r"\bword\b", {("word", False)}),
    (r"(?x) a b  c  # comment", {("abc", False)}),
    (r"[.]xy", {(".xy", False)}),  # re reads a one-character class as a literal
    (r"[.,]xy", {("xy", False)}),
    (r"abc|de", {("abc", False), ("de", False)}),
    (r"x(?:abc|de)?yz", {("yz", False)}),  # an optional group is not required
    (r"(?:abc|de)+", {("abc", False), ("de", False)}),
    (r"(?:abc)+d", {("abc", False)}),
    (r"colou?r", {("colo", False)}),
    (r"(?i)Access Denied", {("access denied", True)}),
    (r"(?i:DE)nied", {("nied", False)}),
    (r"(?i)stra\u00dfe", {("stra", True)}),  # non-ASCII ends a case-insensitive run
    (r"(?i)x(?-i:ABC)", {("ABC", False)}),
    (r"a*", None),
    (r"[abc]+", None),
    (r"abc|d*", None),  # one branch needs no text at all
    (r"(?:ab)?", None),
    (r"(unclosed", None),
]


@pytest.mark.parametrize(("pattern", "expected"), LITERAL_CASES)
def test_required_literals(pattern: str, expected: set[tuple[str, bool]] | None) -> None:
    triggers = required_literals(pattern)
    assert (None if triggers is None else set(triggers)) == expected


def test_case_folding_covers_every_ignorecase_variant_of_ascii() -> None:
    """Why ASCII literals of (?i) regexes may be searched in fold_case(body)."""
    every_char = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    variants = set(re.findall(r"(?i)[\x00-\x7f]", every_char))
    for variant in variants:
        for char in map(chr, range(0x80)):
            if re.fullmatch(re.escape(char), variant, re.IGNORECASE):
                assert fold_case(variant) == char.lower(), (variant, char)


# --- property: the prefiltered matcher equals running every regex -------------

_ATOMS = st.sampled_from(
    ["a", "b", "ab", "blk", "k", "s", "i", "A", "é", r"\.", ".", "[ab]", "[^a]", r"\d", r"\b", "^", "(?-i:K)"]
)


def _compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(inner, min_size=2, max_size=4).map("".join),
        st.lists(inner, min_size=2, max_size=3).map(lambda parts: "(?:" + "|".join(parts) + ")"),
        inner.map(lambda r: f"(?:{r})?"),
        inner.map(lambda r: f"(?:{r})*"),
        inner.map(lambda r: f"({r})+"),
        inner.map(lambda r: f"(?i:{r})"),
    )


_REGEXES = st.tuples(st.booleans(), st.recursive(_ATOMS, _compound, max_leaves=8)).map(
    lambda t: ("(?i)" if t[0] else "") + t[1]
)
_BODIES = st.text(alphabet="ablkKsSiI.é É1 \n\u0130\u0131\u017f\u212a", max_size=24)


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(regexes=st.lists(_REGEXES, min_size=1, max_size=5), body=_BODIES)
def test_prefiltered_matcher_agrees_with_naive_regex_loop(regexes: list[str], body: str) -> None:
    db = FingerprintDB([fp(f"r{i}", rx, "regexp") for i, rx in enumerate(regexes)])
    naive = {f"r{i}" for i, rx in enumerate(regexes) if re.search(rx, body, re.DOTALL)}
    assert set(ids(db.match_http(body, []))) == naive


# --- loaders on small files ----------------------------------------------------

OONI_HEADER = (
    "name,scope,other_names,location_found,pattern_type,pattern,"
    "confidence_no_fp,expected_countries,source,exp_url,notes\n"
)


def test_loaders_skip_malformed_rows_and_count_them(tmp_path: Path) -> None:
    dns = tmp_path / "fingerprints_dns.csv"
    dns.write_text(
        OONI_HEADER + "ooni.ir_5,nat,,dns,full,10.10.34.35,5,IR,ooni,,\n,nat,,dns,full,1.2.3.4,5,,,,\n"
    )
    http = tmp_path / "fingerprints_http.csv"
    http.write_text(
        OONI_HEADER
        + 'ooni.x,isp,,Header.Location,prefix,http://block,5,"ru, by",ooni,,\n'
        + "ooni.y,isp,,body,glob,blocked,5,,ooni,,\n"
        + "ooni.z,isp,,body,contains,a,b,5,,ooni,,,\n"
        + "cp.bad,fp,,body,regexp,(unclosed,5,,censored planet,,\n"
    )
    skipped: list[str] = []
    fingerprints = load_ooni_fingerprints(dns, http, skipped=skipped)
    assert [f.fingerprint_id for f in fingerprints] == ["ooni.ir_5", "ooni.x", "cp.bad"]
    assert fingerprints[1].location == "header.location"
    assert fingerprints[1].countries == ("RU", "BY")
    assert fingerprints[2].false_positive
    assert len(skipped) == 3 and skipped[0].startswith("fingerprints_dns.csv:3: missing name")
    db = FingerprintDB(fingerprints, skipped)
    assert db.size == 2 and len(db.skipped) == 4


def test_censoredplanet_loader(tmp_path: Path) -> None:
    blockpages = tmp_path / "blockpage_signatures.json"
    blockpages.write_text(
        '{"fingerprint":"a_prod_x","pattern":"X Filter"}\n\n'
        '{"fingerprint":"f_gen_1","pattern":"blocked"}\n'
        "not json\n"
        '["a list"]\n'
        '{"fingerprint":"c_isp_y"}\n'
    )
    false_positives = tmp_path / "false_positive_signatures.json"
    false_positives.write_text('{"fingerprint":"x_cloudflare_error_1","pattern":"Ray ID:"}\n')
    skipped: list[str] = []
    fingerprints = load_censoredplanet_signatures(blockpages, false_positives, skipped=skipped)
    assert [(f.fingerprint_id, f.scope, f.false_positive) for f in fingerprints] == [
        ("x_cloudflare_error_1", "fp", True),
        ("a_prod_x", "prod", False),
        ("f_gen_1", "vbw", False),
    ]
    assert [s.split(":")[1] for s in skipped] == ["4", "5", "6"]


def test_default_loader_without_files_has_only_the_builtin_set(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NETVIGIL_FINGERPRINTS_DIR", raising=False)
    db = load_default_fingerprints(tmp_path)
    builtin = load_builtin_fingerprints()
    assert db.size == len(builtin) > 0 and not db.skipped
    assert {f.source for f in builtin} == {"netvigil"}
    assert db.version == FingerprintDB(builtin).version


BUILTIN_CASES = {
    # answer or body / headers -> (fingerprint id, confirms for the country, false positive)
    "Iran's DNS blocking address": ("dns", "10.10.34.35", "IR", "nv.ir_dns_10_10_34_35", True, False),
    "Iran's blockpage iframe": ("body", '<iframe src="http://10.10.34.34?type=Invalid Site">', "IR",
                                "nv.ir_peyvandha_iframe", True, False),
    "Russia's registry link": ("body", "<p>Единый реестр: http://eais.rkn.gov.ru/</p>", "RU",
                               "nv.ru_rkn_registry", True, False),
    "Fortinet's filter page": ("body", "<p>FortiGuard Web Filtering</p>", "BR", "nv.prod_fortiguard", True, False),
    "Cloudflare's challenge": ("body", '<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/x.js">', "US",
                               "nv.fp_cloudflare_challenge", False, True),
}


@pytest.mark.parametrize("name", BUILTIN_CASES)
def test_builtin_fingerprints_recognise_what_they_document(name: str) -> None:
    where, text, cc, expected_id, confirms, false_positive = BUILTIN_CASES[name]
    db = FingerprintDB(load_builtin_fingerprints())
    match = db.match_dns(text) if where == "dns" else db.match_http(text, ())[0]
    assert match is not None and match.fingerprint_id == expected_id
    assert match.confirms_blocking(cc) is confirms and match.false_positive is false_positive


def test_fingerprints_dir_overrides_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    override = tmp_path / "override"
    override.mkdir()
    (override / "blockpage_signatures.json").write_text(
        '{"fingerprint":"a_prod_new","pattern":"New Filter"}\n'
    )
    monkeypatch.setenv("NETVIGIL_FINGERPRINTS_DIR", str(override))
    db = load_default_fingerprints(tmp_path / "no-shared-data")
    assert ids(db.match_http("New Filter", [])) == ["a_prod_new"]


def test_shared_data_dir_honours_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NETVIGIL_SHARED_DATA", str(tmp_path))
    assert shared_data_dir() == tmp_path


# --- real reference data ---------------------------------------------------------

DATA = shared_data_dir()
ID_MEASUREMENT = (
    "ooni-backend/fastpath/fastpath/tests/data/20250527233111.802678_ID_webconnectivity_5a37ec909dbf14e3.json"
)
CLOUDFLARE_MEASUREMENT = (
    "ooni-probe-cli/internal/minipipeline/testdata/webconnectivity/generated/"
    "cloudflareCAPTCHAWithHTTP/measurement.json"
)


@pytest.fixture(scope="module")
def real_db() -> FingerprintDB:
    if not DATA.is_dir():
        pytest.skip(f"shared data directory {DATA} is absent")
    return load_default_fingerprints(DATA)


def _responses(relative: str) -> tuple[str, list[tuple[str | bytes | None, list[tuple[str, str]]]]]:
    """(probe_cc, [(body, headers)]) of a web_connectivity measurement's requests."""
    measurement = json.loads((DATA / relative).read_text(encoding="utf-8"))
    responses = []
    for request in measurement["test_keys"]["requests"]:
        response = request.get("response") or {}
        body = response.get("body")
        if isinstance(body, dict):
            body = base64.b64decode(body["data"])
        headers = response.get("headers_list") or list((response.get("headers") or {}).items())
        responses.append((body, [(name, value) for name, value in headers]))
    return measurement["probe_cc"], responses


def test_real_data_loads_with_few_skips(real_db: FingerprintDB) -> None:
    ooni: list[str] = []
    cp: list[str] = []
    ooni_fps = load_ooni_fingerprints(
        DATA / "ooni-blocking-fingerprints/fingerprints_dns.csv",
        DATA / "ooni-blocking-fingerprints/fingerprints_http.csv",
        skipped=ooni,
    )
    cp_fps = load_censoredplanet_signatures(
        DATA / "censoredplanet/assets-censoredplanet/blockpage_signatures.json",
        DATA / "censoredplanet/assets-censoredplanet/false_positive_signatures.json",
        skipped=cp,
    )
    assert len(ooni_fps) >= 1900 and len(cp_fps) >= 1000
    assert real_db.size >= 2900
    assert len(ooni) + len(cp) + len(real_db.skipped) <= 5
    assert real_db.always_run_regexes <= 5


def test_real_iranian_dns_injection(real_db: FingerprintDB) -> None:
    for answer in ("10.10.34.35", "10.10.34.36"):
        match = real_db.match_dns(answer)
        assert match is not None and "IR" in match.countries
        assert match.confirms_blocking("IR")


def test_real_indonesian_blockpage_is_confirmed(real_db: FingerprintDB) -> None:
    """The 302 to lamanlabuh.aduankonten.id is fingerprinted; the page it leads to is not."""
    probe_cc, responses = _responses(ID_MEASUREMENT)
    per_response = [real_db.match_http(body, headers) for body, headers in responses]
    assert [ids(m)[:1] for m in per_response] == [[], ["ooni.id_lamanlabuh_kominfo"]]  # upstream id first
    assert per_response[1][0].location == "header.location"
    assert per_response[1][0].confirms_blocking(probe_cc)


def test_real_cloudflare_challenge_is_a_false_positive(real_db: FingerprintDB) -> None:
    probe_cc, responses = _responses(CLOUDFLARE_MEASUREMENT)
    matches = [m for body, headers in responses for m in real_db.match_http(body, headers)]
    assert any(m.false_positive and m.source == "censoredplanet" for m in matches)
    assert all(m.false_positive for m in matches)
    assert not any(m.confirms_blocking(probe_cc) for m in matches)
