"""RFC 8785 JSON Canonicalization Scheme (JCS): one byte string per JSON value.

A signature has to be over bytes, and the same measurement must give the same
bytes whoever serialises it.  JCS fixes the three things JSON leaves open:
object members are sorted by the UTF-16 code units of their names, strings use
the shortest escapes of ECMAScript's ``JSON.stringify``, and numbers are written
as ECMAScript's ``Number.prototype.toString`` writes an IEEE 754 double.

Python's ``repr(float)`` already gives the shortest digits that read back to the
same double (the property ECMAScript requires), so only the layout of those
digits is ours (:func:`format_number`).  Values JCS cannot represent — NaN,
infinities, integers a double cannot hold exactly, lone surrogates, non-string
keys — raise :class:`CanonicalError` rather than being signed in some form a
verifier would not reproduce.
"""

from __future__ import annotations

import math
from typing import Any

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPE_TABLE = {ord(ch): esc for ch, esc in _ESCAPES.items()}
_ESCAPE_TABLE.update({code: f"\\u{code:04x}" for code in range(0x20) if chr(code) not in _ESCAPES})
MAX_SAFE_INTEGER = 2**53


class CanonicalError(ValueError):
    """A value that has no RFC 8785 form (the message says which and where)."""


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value (dict, list, str, int, float, bool, None)."""
    parts: list[str] = []
    _write(value, parts, "$")
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, e.g. from "\ud800" in the input
        raise CanonicalError(f"string holds a lone surrogate (U+{ord(exc.object[exc.start]):04X}), "
                             "which is not Unicode text") from None


def _write(value: Any, out: list[str], where: str) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int):
        out.append(_integer(value, where))
    elif isinstance(value, float):
        out.append(format_number(value, where))
    elif isinstance(value, dict):
        _object(value, out, where)
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out, f"{where}[{index}]")
        out.append("]")
    else:
        raise CanonicalError(f"{where}: {type(value).__name__} is not a JSON value")


def _object(value: dict[Any, Any], out: list[str], where: str) -> None:
    bad = next((k for k in value if not isinstance(k, str)), None)
    if bad is not None:
        raise CanonicalError(f"{where}: object key {bad!r} is not a string")
    out.append("{")
    for index, key in enumerate(sorted(value, key=_utf16_order)):
        if index:
            out.append(",")
        out.append(_string(key))
        out.append(":")
        _write(value[key], out, f"{where}.{key}")
    out.append("}")


def _utf16_order(key: str) -> bytes:
    """Sort key: big-endian UTF-16 bytes compare as the code units RFC 8785 §3.2.3 sorts by."""
    return key.encode("utf-16-be", "surrogatepass")


def _string(text: str) -> str:
    if '"' not in text and "\\" not in text and text.isprintable():  # nothing to escape (hex, ids, words)
        return '"' + text + '"'
    return '"' + text.translate(_ESCAPE_TABLE) + '"'


def canonical_string(text: str) -> str:
    """The RFC 8785 form of one string (for callers that lay out a fixed-shape object themselves)."""
    return _string(text)


def _integer(value: int, where: str) -> str:
    """A JSON number is a double (RFC 8785 §3.2.2.3): beyond 2**53 an int is read as the nearest one,
    as ECMAScript reads the same text."""
    if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return str(value)
    try:
        return format_number(float(value), where)
    except OverflowError:
        raise CanonicalError(f"{where}: integer with {len(str(abs(value)))} digits is beyond any IEEE 754 double") from None


def format_number(value: float, where: str = "$") -> str:
    """ECMAScript ``Number.prototype.toString`` of a double (ECMA-262 §7.1.12.1 / RFC 8785 §3.2.2.3)."""
    if not math.isfinite(value):
        raise CanonicalError(f"{where}: {value} has no JSON form (NaN and infinities are not numbers in JSON)")
    if value == 0:
        return "0"  # also -0
    sign = "-" if value < 0 else ""
    digits, n = _shortest_digits(abs(value))
    k = len(digits)
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * -n + digits
    else:
        exponent = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        body = f"{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent)}"
    return sign + body


def _shortest_digits(value: float) -> tuple[str, int]:
    """Digits s (no leading or trailing zeros) and n with value = 0.s × 10**n, shortest round trip."""
    text = repr(value)
    mantissa, _, exp = text.partition("e")
    exponent = int(exp) if exp else 0
    whole, _, fraction = mantissa.partition(".")
    fraction = fraction.rstrip("0")
    digits = (whole + fraction).lstrip("0")
    leading = len(whole + fraction) - len((whole + fraction).lstrip("0"))
    n = len(whole) + exponent - leading
    return digits.rstrip("0"), n
