"""Issue 16: false-positive signatures must not hide specific blockpages.

Hand-made fingerprints pin the precedence rule; then real-looking pages, written
here from the fingerprints' patterns and the ISPs' public descriptions (no page
is copied), are run through the real reference set: Russian and Thai
blockpages in legacy encodings, the UK opt-in filters, Indonesian ISPs, a Check
Point URL filter, a Squid error page, and 130 KB news front pages.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from netvigil.analysis.fingerprints import (
    REGEX_FLAGS,
    Fingerprint,
    FingerprintDB,
    FingerprintMatch,
    lazy_quantifiers,
    undecodable_byte_pattern,
)
from netvigil.store.reference_data import (
    load_censoredplanet_signatures,
    load_default_fingerprints,
    load_ooni_fingerprints,
    shared_data_dir,
)


def fp(
    fingerprint_id: str,
    pattern: str,
    scope: str,
    source: str = "ooni",
    countries: tuple[str, ...] = (),
    pattern_type: str = "contains",
    location: str = "body",
) -> Fingerprint:
    return Fingerprint(
        fingerprint_id, source, scope, location, pattern_type, pattern, countries, scope == "fp"
    )


def ids(matches: list[FingerprintMatch] | tuple[FingerprintMatch, ...]) -> list[str]:
    return [m.fingerprint_id for m in matches]


# --- the precedence rule, on hand-made fingerprints --------------------------------

HANDMADE = FingerprintDB(
    [
        fp("cp.fp_redirect", "redirect", "fp"),
        fp("cp.f_gen_blocked", "blocked", "vbw"),
        fp("cp.a_prod_filter", "Filter", "prod"),
        fp("a_prod_filter", "Filter", "prod", source="censoredplanet"),
        fp("c_isp_xx", "isp.example", "isp", source="censoredplanet"),
        fp(
            "ooni.gb_9",
            "http://block.isp.example/",
            "isp",
            countries=("GB",),
            pattern_type="prefix",
            location="header.location",
        ),
        fp("cl.prod_box", "Box Filter", "prod"),
        fp("cl.susp_blank", "<html></html>", "isp"),
        fp("ooni.th_10", "<HTML></HTML>", "vbw", countries=("TH",)),
        fp("nv.prod_mine", "Mine Filter", "prod", source="netvigil"),
    ]
)

PRECEDENCE = {
    # name: (body, headers, matches in order, suppressed false positives)
    "a false positive beats generic signatures": (
        "redirect: blocked by Filter",
        [],
        ["cp.fp_redirect", "cp.f_gen_blocked", "cp.a_prod_filter", "a_prod_filter"],
        [],
    ),
    "an ISP-scoped Censored Planet signature beats it": (
        "redirect to isp.example",
        [],
        ["c_isp_xx"],
        ["cp.fp_redirect"],
    ),
    "a country-scoped header fingerprint beats a body false positive": (
        "you will be redirected",
        [("Location", "http://block.isp.example/?u=x")],
        ["ooni.gb_9"],
        ["cp.fp_redirect"],
    ),
    "a Citizen Lab product fingerprint beats it": (
        "redirect by Box Filter",
        [],
        ["cl.prod_box", "cp.a_prod_filter", "a_prod_filter"],
        ["cp.fp_redirect"],
    ),
    "netvigil's own beats it": (
        "redirect by Mine Filter",
        [],
        ["nv.prod_mine", "cp.a_prod_filter", "a_prod_filter"],
        ["cp.fp_redirect"],
    ),
    "specific first, generic kept after it": (
        "redirect: blocked at isp.example",
        [],
        ["c_isp_xx", "cp.f_gen_blocked"],
        ["cp.fp_redirect"],
    ),
    "a suspected blank page stays generic": (
        "<html></html> redirect",
        [],
        ["cp.fp_redirect", "cl.susp_blank"],
        [],
    ),
    "a vague word with countries stays generic": (
        "<HTML></HTML> redirect",
        [],
        ["cp.fp_redirect", "ooni.th_10"],
        [],
    ),
    "no false positive, generic alone": ("blocked", [], ["cp.f_gen_blocked"], []),
}


@pytest.mark.parametrize("name", PRECEDENCE)
def test_precedence(name: str) -> None:
    body, headers, expected, suppressed = PRECEDENCE[name]
    resolved = HANDMADE.resolve_http(body, headers)
    assert ids(resolved.matches) == expected
    assert ids(resolved.suppressed) == suppressed
    assert ids(HANDMADE.match_http(body, headers)) == expected


# --- U+FFFD: an undecodable byte, not a character on a page ---------------------------

TRANSLATIONS = {
    "\ufffd.*\ufffd": "[\udc80-\udcff].*[\udc80-\udcff]",
    "a[^\ufffd]b": "a[^\udc80-\udcff]b",
    "x\\\ufffdy": "x[\udc80-\udcff]y",
    "no replacement here": "no replacement here",
}


@pytest.mark.parametrize("pattern", TRANSLATIONS)
def test_undecodable_byte_pattern(pattern: str) -> None:
    assert undecodable_byte_pattern(pattern, "regexp")[0] == TRANSLATIONS[pattern]


def test_literal_patterns_with_u_fffd_become_anchored_regexes() -> None:
    assert undecodable_byte_pattern("a.\ufffd", "contains") == ("a\\.[\udc80-\udcff]", "regexp")
    assert undecodable_byte_pattern("\ufffd", "full") == ("\\A(?:[\udc80-\udcff])\\Z", "regexp")
    assert undecodable_byte_pattern("ab", "prefix") == ("ab", "prefix")


BINARY = FingerprintDB(
    [
        fp(
            "x_binary",
            undecodable_byte_pattern("\ufffd.*\ufffd", "regexp")[0],
            "fp",
            source="censoredplanet",
            pattern_type="regexp",
        )
    ]
)

BINARY_CASES = {
    # name: (body, headers, matches)
    "gzip bytes served as the page": (gzip.compress(b"<html>" * 50), [], True),
    "two stray bytes in ASCII": (b"ok \xff then \xfe", [], True),
    "one stray byte": (b"ok \xff only", [], False),
    "UTF-8 text showing two U+FFFD": ("caf\ufffd and \ufffd", [], False),
    "the same page as bytes": ("caf\ufffd and \ufffd".encode(), [], False),
    "windows-1251 with its charset declared": (
        "<meta charset=windows-1251>Доступ ограничен".encode("cp1251"),
        [],
        False,
    ),
    "windows-1251 without a charset": ("Доступ ограничен".encode("cp1251"), [], True),
    "a character cut by truncation": ("Доступ".encode()[:-1], [], False),
}


@pytest.mark.parametrize("name", BINARY_CASES)
def test_binary_body_signature(name: str) -> None:
    body, headers, expected = BINARY_CASES[name]
    assert (ids(BINARY.match_http(body, headers)) == ["x_binary"]) is expected


@settings(max_examples=200, deadline=None, database=None)
@given(text=st.text(), at=st.integers(min_value=0), as_bytes=st.booleans())
def test_no_signature_matches_a_utf8_page_for_its_replacement_characters(
    text: str, at: int, as_bytes: bool
) -> None:
    at %= len(text) + 1
    page = text[:at] + "\ufffd\ufffd" + text[at:] + "\ufffd"
    page = page.encode("utf-8", "replace").decode("utf-8")  # only what valid UTF-8 can carry
    assert BINARY.match_http(page.encode() if as_bytes else page, []) == []


_LAZY_ATOMS = st.sampled_from(
    ["a", "b", ".", "[ab]", "[]a]", "[^]b]", r"\.", r"\*", "a}", "{x}", "{}", "\udc80", "[\udc80-\udcff]"]
)
_QUANTIFIERS = st.sampled_from(
    ["", "*", "+", "?", "*?", "+?", "??", "*+", "++", "{2}", "{1,3}", "{,2}", "{2}?"]
)
_LAZY_REGEXES = st.recursive(
    st.tuples(_LAZY_ATOMS, _QUANTIFIERS).map("".join),
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map("".join),
        st.tuples(st.lists(inner, min_size=2, max_size=3).map("|".join), _QUANTIFIERS).map(
            lambda t: f"(?:{t[0]}){t[1]}"
        ),
        st.tuples(inner, _QUANTIFIERS).map(lambda t: f"({t[0]}){t[1]}"),
    ),
    max_leaves=6,
)


@settings(max_examples=400, deadline=None, database=None)
@given(pattern=_LAZY_REGEXES, text=st.text(alphabet="ab.*}{x\udc80\n", max_size=12))
def test_lazy_quantifiers_match_the_same_texts(pattern: str, text: str) -> None:
    try:
        expected = re.search(pattern, text, REGEX_FLAGS) is None
    except SystemError:  # CPython's own bug on some possessive groups ("span of capturing group is wrong")
        reject()
    lazy = lazy_quantifiers(pattern)
    assert expected == (re.search(lazy, text, REGEX_FLAGS) is None)


def test_loaders_read_u_fffd_as_an_undecodable_byte_and_refuse_bad_utf8(tmp_path: Path) -> None:
    blockpages = tmp_path / "blockpage_signatures.json"
    blockpages.write_bytes(
        b'{"fingerprint":"a_prod_x","pattern":"X Filter"}\n'
        b'{"fingerprint":"a_prod_bad","pattern":"caf\xe9 Filter"}\n'
    )
    false_positives = tmp_path / "false_positive_signatures.json"
    false_positives.write_text(
        '{"fingerprint":"x_\ufffd\\u001a","pattern":"\ufffd.*\ufffd"}\n', encoding="utf-8"
    )
    skipped: list[str] = []
    cp = load_censoredplanet_signatures(blockpages, false_positives, skipped=skipped)
    assert [(f.fingerprint_id, f.pattern) for f in cp] == [
        ("x_\ufffd\x1a", "[\udc80-\udcff].*[\udc80-\udcff]"),
        ("a_prod_x", "X Filter"),
    ]
    assert skipped == ["blockpage_signatures.json:2: not valid UTF-8"]
    header = (
        "name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,expected_countries\n"
    )
    (tmp_path / "dns.csv").write_text(header, encoding="utf-8")
    (tmp_path / "http.csv").write_bytes(
        (
            header + "cp.fp_x_\ufffd\x1a,fp,,body,regexp,\ufffd.*\ufffd,5,\n"
            "cp.fp_lit,fp,,body,contains,a\ufffd,5,\n"
        ).encode()
        + b"ooni.x,isp,,body,contains,\xff,5,\n"
    )
    skipped = []
    ooni = load_ooni_fingerprints(tmp_path / "dns.csv", tmp_path / "http.csv", skipped=skipped)
    assert [(f.pattern_type, f.pattern) for f in ooni] == [
        ("regexp", "[\udc80-\udcff].*[\udc80-\udcff]"),
        ("regexp", "a[\udc80-\udcff]"),
    ]
    assert skipped == ["http.csv:4: not valid UTF-8"]
    assert FingerprintDB(cp + ooni).size == 4


# --- the real reference set -----------------------------------------------------

DATA = shared_data_dir()
LISTED = {
    "cp.fp_x_\ufffd\x1a",
    "x_\ufffd\x1a",
    "cp.fp_x_redirect_just",
    "cp.fp_r_fp_6",
    "r_fp_6",
    "cp.fp_x_coming_soon",
    "x_coming_soon",
    "cp.fp_p_fp_14",
    "p_fp_14",
    "cp.fp_x_user_check",
    "x_user_check",
}


@pytest.fixture(scope="module")
def real_db() -> FingerprintDB:
    if not DATA.is_dir():
        pytest.skip(f"shared data directory {DATA} is absent")
    return load_default_fingerprints(DATA)


def html(title: str, body: str, head: str = "", charset: str = "utf-8") -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="{charset}">\n<title>{title}</title>\n'
        f"{head}</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _ru_ttk() -> bytes:
    return html(
        "TTK :: Доступ к ресурсу ограничен",
        (
            '<div class="notice"><h2>Уважаемый абонент!</h2>\n<p>Доступ к запрашиваемому ресурсу ограничен '
            "по решению органов государственной власти. Сайт внесён в Единый реестр.</p>\n"
            "<p>Если вы считаете, что ресурс заблокирован ошибочно, обратитесь в службу поддержки.</p></div>"
        ),
        charset="windows-1251",
    ).encode("cp1251")


def _ru_koi8() -> bytes:
    return html(
        "Доступ закрыт",
        (
            "<h1>Доступ к запрашиваемому ресурсу закрыт.</h1>\n<p>Ресурс включён в реестр запрещённой "
            "информации. Провайдер обязан ограничить к нему доступ.</p>"
        ),
        charset="koi8-r",
    ).encode("koi8-r")


def _ru_utf8_with_replacement() -> str:
    return html(
        "Блокировка",
        (
            '<div class="logo">\ufffd\ufffd Уралтелеком</div>\n<h2>ДОСТУП К РЕСУРСУ ЗАБЛОКИРОВАН!</h2>\n'
            "<p>Ресурс ограничен по требованию Роскомнадзора.</p>"
        ),
    )


def _ru_undeclared_cp1251() -> bytes:
    return (
        "<html><head><title>Блокировка</title></head><body><p>Доступ к ресурсу ограничен.</p>"
        '<p>Проверить адрес: <a href="http://eais.rkn.gov.ru/">eais.rkn.gov.ru</a></p>'
        "</body></html>"
    ).encode("cp1251")


def _th_mict_tis620() -> bytes:
    return html(
        "Blocked",
        (
            "<center><h2>เว็บไซต์ที่ท่านต้องการเข้าชมได้ถูกระงับการเผยแพร่ตามคำสั่งจากกระทรวงเทคโนโลยีสารสนเทศและการสื่อสาร</h2>"
            "\n<p>This website has been suspended by order of the Ministry.</p></center>"
        ),
        charset="tis-620",
    ).encode("cp874")


def _th_cyber_874() -> bytes:
    return html(
        "Blocked",
        ("<h2>กองบังคับการปราบปรามการกระทําความผิดเกี่ยวกับอาชญากรรมทางเทคโนโลยี</h2>\n<p>เว็บไซต์นี้ถูกระงับ</p>"),
        charset="windows-874",
    ).encode("cp874")


def _th_peacekeeping_utf8() -> str:
    return html(
        "\ufffd\ufffd ระงับการเข้าถึง",
        ("<h2>ตามคำสั่ง  กองอำนวยการรักษาความสงบเรียบร้อย</h2>\n<p>ระงับการเผยแพร่เว็บไซต์นี้เป็นการชั่วคราว</p>"),
    )


def _uk_bt() -> str:
    return html(
        "BT Parental Controls",
        (
            '<img src="http://blockpage.bt.com/pcstaticpage/internet-matters.png" alt="Internet Matters">\n'
            "<h1>This site has been blocked by BT Parental Controls</h1>\n<p>The account holder has chosen to "
            "block this category. To change it, sign in to My BT; we will redirect you back here.</p>"
        ),
    )


EE_LOCATION = [
    ("Location", "http://ee.co.uk/help/my-account/corporate-content-lock"),
    ("Content-Type", "text/html"),
]
THREE_LOCATION = [("Location", "http://three.co.uk/mobilebroadband_restricted")]


def _uk_redirect_body(target: str) -> str:
    return html(
        "Object moved",
        f'<h2>Object moved</h2><p>This page will redirect you to <a href="{target}">{target}</a>.</p>',
    )


def _uk_three_age() -> str:
    return html(
        "Three - Age Validation",
        (
            "<p>Adult content is blocked on this connection.</p>\n"
            '<p><a href="https://smobile.three.co.uk/837/">Age Validation</a></p>\n'
            "<p>Coming soon: verify your age in the Three app.</p>"
        ),
    )


def _id_bolt() -> str:
    return html(
        "Internet Sehat Bolt",
        (
            "<p>Maaf, situs yang Anda kunjungi diblokir.</p>\n<p>Apabila Anda merasa situs yang dikunjungi tidak "
            "bertentangan dengan program pemerintah, silakan hubungi customer customer support kami.</p>"
        ),
        head='<meta name="description" content="Bolt 4G">\n<meta name="twitter:card" content="summary">\n',
    )


def _id_mnc_play() -> str:
    return html(
        "Internet Positif MNC Play",
        (
            "<p>Situs ini diblokir sesuai peraturan perundang-undangan.</p>\n"
            "<script>setTimeout(function(){ /* redirect */ location.href = "
            '"http://internetpositif.mncplaymedia.com/"; }, 3000);</script>'
        ),
        head='<meta name="viewport" content="width=device-width">\n<meta name="twitter:card" content="summary">\n',
    )


def _id_xl() -> str:
    return html(
        "XL Axiata",
        (
            '<iframe src="https://blockpage.xlaxiata.id/?u=example" width="100%"></iframe>\n'
            "<p>Coming soon: laporkan situs melalui aplikasi myXL.</p>"
        ),
    )


def _checkpoint() -> str:
    return html(
        "Check Point UserCheck",
        (
            "<h1>Access to this site is blocked</h1>\n<p>Check Point UserCheck: the site is categorized as "
            'Gambling.</p>\n<a href="https://gw.corp.example/UserCheck/PortalMain?IID=8f1c&amp;origUrl=aHR0cA">'
            "Details</a>"
        ),
    )


def _squid_access_denied() -> str:
    return html(
        "ERROR: The requested URL could not be retrieved",
        (
            '<div id="titles"><h1>ERROR</h1><h2>The requested URL could not be retrieved</h2></div>\n'
            "<p>Access control configuration prevents your request from being allowed at this time.</p>"
        ),
        head='<style type="text/css"><!--\n /* Stylesheet for Squid Error pages */\n--></style>\n',
    )


def _news_front_page(site: str, extra: str = "", words: str = "") -> str:
    """About 130 KB of teasers, with the social meta tags every news site has."""
    head = (
        f'<meta name="description" content="{site}: independent news">\n'
        '<meta name="twitter:card" content="summary_large_image">\n'
        f'<meta name="twitter:site" content="@{site}">\n'
    )
    teasers = []
    n = 0
    while sum(len(t) for t in teasers) < 130_000:
        teasers.append(
            f'<article class="teaser"><a href="/news/2026/12/{n}"><h3>Story {n}: {words or "council"} '
            f"votes on the budget</h3></a><p>Reporters followed the debate late into the night; "
            f"residents spoke about rents, transport and schools ({n}).</p></article>\n"
        )
        n += 1
    return html(f"{site} - front page", extra + "".join(teasers), head=head)


# name: (body, headers, probe_cc, deciding fingerprint, false positives the page also matches)
SCENARIOS: dict[str, tuple[str | bytes, list[tuple[str, str]], str, str, set[str]]] = {
    "RU TTK in windows-1251": (_ru_ttk(), [], "RU", "ooni.ru_30", set()),
    "RU ISP in KOI8-R (charset in the header)": (
        _ru_koi8(),
        [("Content-Type", "text/html; charset=KOI8-R")],
        "RU",
        "ooni.ru_4",
        set(),
    ),
    "RU ISP in UTF-8 with a broken logo (U+FFFD)": (
        _ru_utf8_with_replacement(),
        [],
        "RU",
        "cl.isp_ru_ugmktelecom_block",
        set(),
    ),
    "RU undeclared windows-1251 with the registry link": (
        _ru_undeclared_cp1251(),
        [],
        "RU",
        "ooni.ru_5",
        {"cp.fp_x_\ufffd\x1a", "x_\ufffd\x1a"},
    ),
    "TH MICT blockpage in TIS-620": (_th_mict_tis620(), [], "TH", "ooni.th_ministry_3", set()),
    "TH police blockpage in windows-874": (
        _th_cyber_874(),
        [("Content-Type", "text/html; charset=windows-874")],
        "TH",
        "ooni.th_cyber_0",
        set(),
    ),
    "TH UTF-8 blockpage with U+FFFD in its title": (
        _th_peacekeeping_utf8(),
        [],
        "TH",
        "ooni.th_peace_corp_0",
        set(),
    ),
    "UK BT opt-in filter": (_uk_bt(), [], "GB", "cl.isp_gb_bt_optin_block", {"cp.fp_x_redirect_just"}),
    "UK EE content lock redirect": (
        _uk_redirect_body("http://ee.co.uk/help/my-account/corporate-content-lock"),
        EE_LOCATION,
        "GB",
        "ooni.gb_6",
        {"cp.fp_x_redirect_just"},
    ),
    "UK Three restricted redirect": (
        _uk_redirect_body("http://three.co.uk/mobilebroadband_restricted"),
        THREE_LOCATION,
        "GB",
        "ooni.gb_10",
        {"cp.fp_x_redirect_just"},
    ),
    "UK Three age validation page": (
        _uk_three_age(),
        [],
        "GB",
        "ooni.gb_11",
        {"cp.fp_x_coming_soon", "x_coming_soon"},
    ),
    "ID Bolt 4G": (_id_bolt(), [], "ID", "ooni.id_bold_4g_o", {"cp.fp_r_fp_6", "r_fp_6"}),
    "ID MNC Play": (
        _id_mnc_play(),
        [],
        "ID",
        "ooni.id_8",
        {"cp.fp_r_fp_6", "r_fp_6", "cp.fp_x_redirect_just"},
    ),
    "ID XL Axiata": (_id_xl(), [], "ID", "ooni.id_xl_3", {"cp.fp_x_coming_soon", "x_coming_soon"}),
    "Check Point URL filter": (
        _checkpoint(),
        [],
        "AE",
        "cl.prod_checkpoint_urlfilter_blockpage",
        {"cp.fp_x_user_check", "x_user_check"},
    ),
    "Check Point forward": (
        "",
        [("Location", "https://gw.corp.example/UserCheck/PortalMain?IID=8f1c")],
        "AE",
        "cl.prod_checkpoint_urlfilter_forward",
        set(),
    ),
    "Squid access denied": (
        _squid_access_denied(),
        [],
        "PK",
        "cl.prod_squid_error_page",
        {"cp.fp_p_fp_14", "p_fp_14"},
    ),
    "TH news front page with the ministry's iframe": (
        _news_front_page("prachatai", extra='<iframe src="http://103.208.24.21/?accessurl=x"></iframe>\n'),
        [],
        "TH",
        "ooni.th_7",
        {"cp.fp_r_fp_6", "r_fp_6"},
    ),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_specific_blockpage_decides(name: str, real_db: FingerprintDB) -> None:
    body, headers, probe_cc, decider, false_positives = SCENARIOS[name]
    resolved = real_db.resolve_http(body, headers)
    assert resolved.decided_by is not None and resolved.decided_by.fingerprint_id == decider, ids(
        resolved.matches
    )
    assert resolved.decided_by.specific and resolved.decided_by.confirms_blocking(probe_cc)
    assert not any(m.false_positive for m in resolved.matches)
    assert set(ids(resolved.suppressed)) >= false_positives  # the over-broad signature does match, and loses
    assert not set(ids(resolved.matches)) & LISTED


NEWS = {
    # name: (page, deciding false positive, generic signatures it suppresses)
    "prachatai.com-like front page": (_news_front_page("prachatai"), {"cp.fp_r_fp_6", "r_fp_6"}, set()),
    "theguardian.com-like front page with 'Access Denied' in a headline": (
        _news_front_page("guardian", words="Access Denied: court"),
        {"cp.fp_r_fp_6", "r_fp_6"},
        {"cp.f_gen_access_denied", "f_gen_access_denied"},
    ),
}


@pytest.mark.parametrize("name", NEWS)
def test_news_front_page_is_no_blockpage(name: str, real_db: FingerprintDB) -> None:
    """r_fp_6 (any page with a twitter:card tag) matches every front page; it may only outrank generic words."""
    page, false_positives, generic = NEWS[name]
    assert len(page) > 130_000
    matches = real_db.match_http(page, [("Content-Type", "text/html; charset=utf-8")])
    assert false_positives <= set(ids(matches))
    assert not any(m.specific or m.confirms_blocking("TH") or m.confirms_blocking("GB") for m in matches)
    assert {m.fingerprint_id for m in matches if not m.false_positive} == generic
    assert matches[0].false_positive


def test_a_binary_body_is_still_the_false_positive_it_means(real_db: FingerprintDB) -> None:
    matches = real_db.match_http(gzip.compress(b"<html><body>hello</body></html>" * 30), [])
    assert {"cp.fp_x_\ufffd\x1a", "x_\ufffd\x1a"} <= set(ids(matches))
    assert all(m.false_positive for m in matches)
