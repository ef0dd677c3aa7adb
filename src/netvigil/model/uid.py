"""Measurement uids: which ones the store keeps, and which ones a collector accepts.

A uid names a measurement in the read API's URLs (``/api/v1/measurements/{uid}``),
so the store keeps only uids that API can address: printable text without a
slash or backslash, at most 256 characters (``"measurement_uid": 12345`` or an
object is refused too).  A collector is stricter, because anyone with a key
writes there: it takes only the shapes OONI gives out and the one netvigil
derives (:func:`netvigil.model.measurement.derive_uid`):

* OONI since 2020: ``20231101164649.496416_IT_webconnectivity_96d8e1c21db4a0ea``
  (UTC time, country, test name without underscores, hex);
* OONI before: ``01`` + ``YYYYMMDD`` + 30 hex digits;
* netvigil: ``YYYYMMDDhhmmss.000000_CC_testname_`` + 20 hex digits (a special
  case of OONI's current shape).
"""

from __future__ import annotations

import re
from typing import Any

from netvigil.model.errors import BadRecord

MAX_UID_CHARS = 256
INVALID_UID = "invalid measurement_uid"
ADDRESSABLE_UID = re.compile(r"[^\x00-\x1f\x7f/\\]{1,%d}" % MAX_UID_CHARS)
SUBMITTED_UID_SHAPES = (
    re.compile(r"[0-9]{14}\.[0-9]{6}_[A-Z]{2}_[a-z0-9]{1,40}_[0-9a-f]{16,64}"),
    re.compile(r"01[0-9]{8}[0-9a-f]{30}"),
)


def checked_uid(value: Any) -> str | None:
    """``value`` as a stored uid (None when absent); raises BadRecord when it is not one."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRecord(f"{INVALID_UID}: a JSON {_json_type(value)}, not a string", category=INVALID_UID)
    if not ADDRESSABLE_UID.fullmatch(value):
        raise BadRecord(f"{INVALID_UID}: {value[:60]!r} ({len(value):,} characters) is empty, too long or holds "
                        "a slash or control character", category=INVALID_UID)
    return value


def submitted_uid_problem(uid: str) -> str | None:
    """Why a collector refuses ``uid`` (None when it has one of the accepted shapes)."""
    if any(shape.fullmatch(uid) for shape in SUBMITTED_UID_SHAPES):
        return None
    return f"{INVALID_UID}: {uid[:60]!r} is neither an OONI nor a netvigil measurement uid"


def _json_type(value: Any) -> str:
    names = {bool: "boolean", int: "number", float: "number", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)
