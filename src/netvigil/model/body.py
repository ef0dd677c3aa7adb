"""Decoding of df-001 bodies and headers.

OONI writes a body that is not valid UTF-8 as ``{"format": "base64", "data": ...}``;
headers may be a plain map or a ``headers_list`` of pairs whose values may also
be base64-wrapped.  These helpers return plain Python values and never raise
for odd input: a value that cannot be decoded is reported as ``None``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any


def decode_body(value: Any) -> str | bytes | None:
    """Return the body as ``str`` (text) or ``bytes`` (base64-wrapped binary)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and value.get("format") == "base64":
        data = value.get("data")
        if not isinstance(data, str):
            return None
        try:
            return base64.b64decode(data, validate=False)
        except (binascii.Error, ValueError):
            return None
    return None


def body_length(body: str | bytes | None) -> int | None:
    """Length in bytes as the server sent it (UTF-8 for text bodies)."""
    if body is None:
        return None
    if isinstance(body, bytes):
        return len(body)
    if body.isascii():
        return len(body)
    return len(body.encode("utf-8", "surrogatepass"))


def body_text(body: str | bytes | None) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return body


def decode_headers(headers: Any, headers_list: Any) -> tuple[tuple[str, str], ...]:
    """Header pairs, names lower-cased; ``headers_list`` wins because it keeps repeats."""
    pairs: list[tuple[str, str]] = []
    if isinstance(headers_list, list):
        for item in headers_list:
            if isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):
                pairs.append((item[0].lower(), _header_value(item[1])))
    elif isinstance(headers, dict):
        for name, value in headers.items():
            if isinstance(value, list):
                pairs.extend((name.lower(), _header_value(v)) for v in value)
            else:
                pairs.append((name.lower(), _header_value(value)))
    return tuple(pairs)


def _header_value(value: Any) -> str:
    decoded = decode_body(value)
    if decoded is None:
        return "" if value is None else str(value)
    return decoded.decode("utf-8", "replace") if isinstance(decoded, bytes) else decoded
