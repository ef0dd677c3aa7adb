"""Bytes bodies decoded as their server meant them; undecodable bytes kept apart."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netvigil.analysis.body_charset import declared_charset, decode_body_bytes

RU = "Доступ к ресурсу ограничен"
TH = "เว็บไซต์นี้ถูกระงับ"

DECODING = {
    # name: (body, headers, text, encoding, has undecodable bytes)
    "valid UTF-8 wins over a declared charset": (
        RU.encode(),
        [("Content-Type", "text/html; charset=windows-1251")],
        RU,
        "utf-8",
        False,
    ),
    "windows-1251 from the header": (
        RU.encode("cp1251"),
        [("content-type", "text/html; charset=windows-1251")],
        RU,
        "cp1251",
        False,
    ),
    "quoted charset in the header": (
        RU.encode("koi8-r"),
        [("Content-Type", 'text/html; charset="KOI8-R"')],
        RU,
        "koi8-r",
        False,
    ),
    "meta charset": (
        b"<meta charset=windows-1251>" + RU.encode("cp1251"),
        [],
        "<meta charset=windows-1251>" + RU,
        "cp1251",
        False,
    ),
    "meta http-equiv": (
        b'<meta http-equiv="Content-Type" content="text/html; charset=tis-620">' + TH.encode("cp874"),
        [],
        '<meta http-equiv="Content-Type" content="text/html; charset=tis-620">' + TH,
        "cp874",
        False,
    ),
    "the header outranks the meta": (
        b"<meta charset=koi8-r>" + RU.encode("cp1251"),
        [("Content-Type", "text/html; charset=cp1251")],
        "<meta charset=koi8-r>" + RU,
        "cp1251",
        False,
    ),
    "an unknown label falls back to UTF-8": (
        b"\xff ok",
        [("Content-Type", "text/html; charset=klingon")],
        "\ufffd ok",
        "utf-8",
        True,
    ),
    "a non-text codec is refused": (
        b"\xff ok",
        [("Content-Type", "text/html; charset=base64")],
        "\ufffd ok",
        "utf-8",
        True,
    ),
    "UTF-7 is refused": (
        b"\xff +AGEAYgBj-",
        [("Content-Type", "text/html; charset=utf-7")],
        "\ufffd +AGEAYgBj-",
        "utf-8",
        True,
    ),
    "bytes invalid in the declared charset": (
        b"<meta charset=ascii>\x81 and \x8d",
        [],
        "<meta charset=ascii>\ufffd and \ufffd",
        "cp1252",
        True,
    ),
    "an incomplete character at the end is a truncation": (RU.encode()[:-1], [], RU[:-1], "utf-8", False),
}


@pytest.mark.parametrize("name", DECODING)
def test_decoding(name: str) -> None:
    body, headers, text, encoding, undecodable = DECODING[name]
    decoded = decode_body_bytes(body, headers)
    assert (decoded.text, decoded.encoding, decoded.raw is not None) == (text, encoding, undecodable)


def test_raw_keeps_one_surrogate_per_undecodable_byte() -> None:
    decoded = decode_body_bytes(b"a\xe2\x82b\xff")
    assert decoded.raw == "a\udce2\udc82b\udcff"
    assert decoded.text == "a\ufffdb\ufffd"  # as bytes.decode(errors="replace") writes it


def test_meta_is_looked_for_only_at_the_start() -> None:
    late = b"x" * 2000 + b"<meta charset=windows-1251>"
    assert declared_charset(late) is None
    assert declared_charset(b"<META CHARSET='Windows-1251'>") == "cp1251"


@settings(max_examples=200, deadline=None, database=None)
@given(
    body=st.binary(max_size=300), charset=st.sampled_from(["", "windows-1251", "tis-620", "shift_jis", "x"])
)
def test_any_bytes_decode_without_error(body: bytes, charset: str) -> None:
    decoded = decode_body_bytes(body, [("Content-Type", f"text/html; charset={charset}")])
    assert not re.search("[\udc80-\udcff]", decoded.text)  # text is always searchable
    if decoded.raw is not None:
        assert re.search("[\udc80-\udcff]", decoded.raw) and "\ufffd" in decoded.text
        if decoded.encoding in ("utf-8", "cp1251"):  # raw loses no byte (but a cut-off last character)
            assert body.startswith(decoded.raw.encode(decoded.encoding, "surrogateescape"))
