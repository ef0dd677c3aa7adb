"""A response body as the text its server meant, and where its bytes were not text.

Fingerprints are text, so a body that arrives as ``bytes`` (OONI base64-wraps
every body that is not valid UTF-8) must be decoded before it is matched.
Decoding such a body as UTF-8 with replacement characters turns a Russian
blockpage in windows-1251 or a Thai one in TIS-620 into a page of U+FFFD: its
Cyrillic or Thai fingerprint can no longer match, and Censored Planet's
"binary body" false-positive signature matches instead.  So a body is decoded
the way a browser would choose, limited to what matters here:

1. valid UTF-8 stays UTF-8 (a ``str`` body from OONI is exactly that, so both
   forms of the same page are matched alike);
2. otherwise the charset the server declared: the ``Content-Type`` header,
   else a ``<meta>`` charset in the first 1,024 bytes (WHATWG's labels for
   Latin-1 and TIS-620 mean windows-1252 and windows-874);
3. otherwise UTF-8.

Bytes that are not valid in the chosen charset are kept as lone surrogates
(Python's ``surrogateescape``, one per byte, as Go writes one U+FFFD per bad
byte): :attr:`DecodedBody.raw` carries them for the few patterns about
undecodable bytes, and :attr:`DecodedBody.text` shows each as U+FFFD.  An
incomplete multi-byte character at the very end is a truncation, not a bad
byte, and is dropped.  Pure functions; nothing here raises on odd input.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass

UNDECODABLE_BYTES = "\udc80-\udcff"
"""The characters ``surrogateescape`` writes for the bytes 0x80-0xFF it could not decode."""

META_SCAN = 1024
_UNDECODABLE = re.compile(f"[{UNDECODABLE_BYTES}]")
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# WHATWG Encoding labels whose meaning differs from Python's codec of the same name.
_WHATWG_LABELS = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "l1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "iso-8859-9": "cp1254",
    "latin5": "cp1254",
    "tis-620": "cp874",
    "windows-874": "cp874",
    "iso-8859-11": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "x-cp1251": "cp1251",
    "x-sjis": "shift_jis",
}
# Declared but never meant literally for a byte stream a browser reads as HTML.
_REFUSED = frozenset({"utf-7", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"})


@dataclass(frozen=True, slots=True)
class DecodedBody:
    """A body as text; ``raw`` is set only when some bytes were not valid text."""

    text: str
    encoding: str
    raw: str | None = None


def decode_body_bytes(body: bytes, headers: Iterable[tuple[str, str]] = ()) -> DecodedBody:
    """``body`` as UTF-8 if valid, else in its declared charset, else UTF-8; see the module doc."""
    utf8 = _decode(body, "utf-8")
    if utf8.raw is None:
        return utf8
    declared = declared_charset(body, headers)
    if declared is None or declared == "utf-8":
        return utf8
    return _decode(body, declared)


def declared_charset(body: bytes, headers: Iterable[tuple[str, str]] = ()) -> str | None:
    """The Python codec of the charset the response declares, or None if none is usable."""
    for name, value in headers:
        if name.lower() == "content-type":
            found = _HEADER_CHARSET.search(value)
            codec = _codec(found.group(1)) if found else None
            if codec is not None:
                return codec
    found_meta = _META_CHARSET.search(body[:META_SCAN])
    return _codec(found_meta.group(1).decode("ascii")) if found_meta else None


def _codec(label: str) -> str | None:
    """A text codec for an encoding label; None for unknown, non-text or refused labels."""
    label = label.strip().lower()
    if label in _REFUSED:
        return None
    try:
        info = codecs.lookup(_WHATWG_LABELS.get(label, label))
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _REFUSED:
        return None
    return info.name


def _decode(body: bytes, codec: str) -> DecodedBody:
    """Decode with surrogate escapes; an incomplete character at the end is dropped."""
    try:
        return DecodedBody(codecs.getincrementaldecoder(codec)("strict").decode(body, final=False), codec)
    except UnicodeDecodeError:
        pass
    decoder = codecs.getincrementaldecoder(codec)("surrogateescape")
    raw = decoder.decode(body, final=False)
    pending = len(decoder.getstate()[0])
    # The same bytes decoded with U+FFFD (C speed; a run of bad bytes may become one U+FFFD).
    text = (body[:-pending] if pending else body).decode(codec, "replace")
    return DecodedBody(text, codec, raw)
