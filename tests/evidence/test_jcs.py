"""RFC 8785 canonicalisation: the RFC's own examples, and properties against ECMAScript itself.

The oracle for the properties is Node.js (a project requirement for the
dashboard): ``JSON.stringify`` with sorted keys *is* the definition RFC 8785
builds on, so a disagreement is a bug in our canonicaliser.
"""

from __future__ import annotations

import json
import math
import shutil
import struct
import subprocess
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netvigil.evidence.jcs import CanonicalError, canonicalize, format_number

# RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
NUMBER_VECTORS = {
    "0000000000000000": "0", "8000000000000000": "0", "0000000000000001": "5e-324",
    "8000000000000001": "-5e-324", "7fefffffffffffff": "1.7976931348623157e+308",
    "ffefffffffffffff": "-1.7976931348623157e+308", "4340000000000000": "9007199254740992",
    "c340000000000000": "-9007199254740992", "4430000000000000": "295147905179352830000",
    "44b52d02c7e14af5": "9.999999999999997e+22", "44b52d02c7e14af6": "1e+23",
    "44b52d02c7e14af7": "1.0000000000000001e+23", "444b1ae4d6e2ef4e": "999999999999999700000",
    "444b1ae4d6e2ef4f": "999999999999999900000", "444b1ae4d6e2ef50": "1e+21",
    "3eb0c6f7a0b5ed8c": "9.999999999999997e-7", "3eb0c6f7a0b5ed8d": "0.000001",
    "41b3de4355555553": "333333333.3333332", "41b3de4355555554": "333333333.33333325",
    "41b3de4355555555": "333333333.3333333", "41b3de4355555556": "333333333.3333334",
    "41b3de4355555557": "333333333.33333343", "becbf647612f3696": "-0.0000033333333333333333",
    "43143ff3c1cb0959": "1424953923781206.2",
}
NOT_NUMBERS = ("7fffffffffffffff", "7ff0000000000000", "fff0000000000000")

# RFC 8785 §3.2.2 (primitives) and §3.2.3 (sorting), input as JSON text -> canonical output.
DOCUMENT_VECTORS = {
    "primitives": (
        ('{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'),
        ('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}')),
    "sorting": (
        ('{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh",'
        ' "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control",'
        ' "\\u00f6": "Latin Small Letter O With Diaeresis"}'),
        ('{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",'
        '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}')),
    "nested and empty": ('{"b": [], "a": {"z": {}, "y": [1, [2.0, -0.0]]}}', '{"a":{"y":[1,[2,0]],"z":{}},"b":[]}'),
}
INVALID = {
    "NaN": float("nan"), "infinity": float("inf"), "non-string key": {1: "x"},
    "lone surrogate": "\ud800", "integer beyond any double": 10**400, "bytes": b"x",
}


@pytest.mark.parametrize("bits", NUMBER_VECTORS)
def test_rfc8785_number_vectors(bits: str) -> None:
    value = struct.unpack(">d", bytes.fromhex(bits))[0]
    assert format_number(value) == NUMBER_VECTORS[bits]


@pytest.mark.parametrize("bits", NOT_NUMBERS)
def test_nan_and_infinities_are_refused(bits: str) -> None:
    with pytest.raises(CanonicalError, match="no JSON form"):
        format_number(struct.unpack(">d", bytes.fromhex(bits))[0])


@pytest.mark.parametrize("name", DOCUMENT_VECTORS)
def test_rfc8785_document_vectors(name: str) -> None:
    source, expected = DOCUMENT_VECTORS[name]
    assert canonicalize(json.loads(source)) == expected.encode("utf-8")


@pytest.mark.parametrize("name", INVALID)
def test_values_without_a_canonical_form_are_refused(name: str) -> None:
    with pytest.raises(CanonicalError):
        canonicalize({"x": INVALID[name]})


def test_exact_large_integer_is_a_double() -> None:
    assert canonicalize(2**60) == b"1152921504606847000"  # as (2 ** 60).toString() writes it
    assert canonicalize(10**21) == b"1e+21"


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(-(2**53), 2**53) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=20)


@pytest.fixture(scope="module")
def ecmascript() -> Iterator[subprocess.Popen[str]]:
    """A Node.js process that canonicalises one JSON line per request the ECMAScript way."""
    node = shutil.which("node")
    assert node, "Node.js is a netvigil build requirement (README) and the oracle for these tests"
    script = r"""
const rl = require('readline').createInterface({input: process.stdin});
const canon = v => Array.isArray(v) ? '[' + v.map(canon).join(',') + ']'
  : (v !== null && typeof v === 'object')
    ? '{' + Object.keys(v).sort().map(k => JSON.stringify(k) + ':' + canon(v[k])).join(',') + '}'
    : JSON.stringify(v);
rl.on('line', line => process.stdout.write(JSON.stringify(canon(JSON.parse(line))) + '\n'));
"""
    proc = subprocess.Popen([node, "-e", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            encoding="utf-8")
    yield proc
    proc.stdin.close()  # type: ignore[union-attr]
    proc.wait(timeout=10)


def ask(proc: subprocess.Popen[str], value: object) -> str:
    proc.stdin.write(json.dumps(value, ensure_ascii=True) + "\n")  # type: ignore[union-attr]
    proc.stdin.flush()  # type: ignore[union-attr]
    return json.loads(proc.stdout.readline())  # type: ignore[union-attr]


@settings(max_examples=400, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_match_ecmascript(ecmascript: subprocess.Popen[str], value: float) -> None:
    assert format_number(value) == ask(ecmascript, value)


@settings(max_examples=300, deadline=None)
@given(json_values.filter(lambda v: not _has_surrogate(v)))
def test_documents_match_ecmascript(ecmascript: subprocess.Popen[str], value: object) -> None:
    assert canonicalize(value).decode("utf-8") == ask(ecmascript, value)


@settings(max_examples=300)
@given(json_values.filter(lambda v: not _has_surrogate(v)))
def test_canonical_form_is_a_fixed_point_and_reads_back(value: object) -> None:
    """Parsing the canonical text and canonicalising again changes nothing; the value is unchanged."""
    text = canonicalize(value)
    again = json.loads(text)
    assert canonicalize(again) == text
    assert _same(again, value)


@settings(max_examples=300)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_round_trips_with_shortest_digits(value: float) -> None:
    text = format_number(value)
    assert float(text) == value
    exponent_form = "e" in text
    assert exponent_form == (value != 0 and not 1e-6 <= abs(value) < 1e21)


def _has_surrogate(value: object) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    return False


def _same(a: object, b: object) -> bool:
    if isinstance(b, float) or isinstance(a, float):
        return isinstance(a, int | float) and isinstance(b, int | float) and (a == b or math.isclose(a, b, rel_tol=0))
    if isinstance(b, list):
        return isinstance(a, list) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(b, dict):
        return isinstance(a, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in b)
    return a == b
