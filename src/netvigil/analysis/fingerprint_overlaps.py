"""Where false-positive signatures overlap blockpage fingerprints, and who wins.

A false-positive signature that also matches a real blockpage hides
censorship, so the whole fingerprint set is checked: every blockpage
fingerprint gets an *example* response (its own literal pattern as the body
or header value, or for a regex the shortest text it matches), and known pages
can be added.  Each example is resolved with the matcher's precedence
(:meth:`netvigil.analysis.fingerprints.FingerprintDB.resolve_http`); an
:class:`Overlap` records every example a false-positive signature matches, who
decides it and why.  For a *specific* blockpage the answer must be the
blockpage (the check the tests make); for a generic one the false positive
decides, as Censored Planet's order says, and the report names the
signatures that can therefore never decide a page on their own.  Pure: the
caller loads fingerprints and pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from netvigil.analysis.fingerprints import REGEX_FLAGS, Fingerprint, FingerprintDB, precedence_tier

Response = tuple[str | bytes | None, list[tuple[str, str]]]

_CATEGORY_CHARS = {
    sre.CATEGORY_DIGIT: "0",
    sre.CATEGORY_NOT_DIGIT: "a",
    sre.CATEGORY_SPACE: " ",
    sre.CATEGORY_NOT_SPACE: "a",
    sre.CATEGORY_WORD: "a",
    sre.CATEGORY_NOT_WORD: " ",
}
_NEGATED_CANDIDATES = "x Z0-#\u00e9"


@dataclass(frozen=True, slots=True)
class Overlap:
    """A blockpage example (or known page) that false-positive signatures also match."""

    blockpage_id: str
    blockpage_scope: str
    specific: bool
    false_positives: tuple[str, ...]
    decided_by: str
    decided_by_specific: bool
    resolution: str

    @property
    def blockpage_decides(self) -> bool:
        return self.decided_by not in self.false_positives


def example_response(fp: Fingerprint) -> Response | None:
    """A minimal response the fingerprint matches, or None if none can be derived."""
    text = fp.pattern if fp.pattern_type != "regexp" else regex_example(fp.pattern)
    if text is None or fp.location == "dns":
        return None
    if fp.location == "body":
        return text, []
    return None, [(fp.location.removeprefix("header."), text)]


def regex_example(pattern: str, flags: int = REGEX_FLAGS) -> str | None:
    """The shortest-looking text ``pattern`` matches (checked), or None."""
    try:
        compiled = re.compile(pattern, flags)
        text = _emit(sre_parse.parse(pattern, flags))
    except (re.error, OverflowError, RecursionError, _NoExample):
        return None
    return text if compiled.search(text) is not None else None


class _NoExample(Exception):
    """A construct the example writer does not handle (back-references)."""


def _emit(items: Iterable[tuple[Any, Any]]) -> str:
    return "".join(_emit_node(op, arg) for op, arg in items)


def _emit_node(op: Any, arg: Any) -> str:
    if op is sre.LITERAL:
        return chr(arg)
    if op is sre.NOT_LITERAL:
        return "x" if arg != ord("x") else "y"
    if op is sre.ANY:
        return "x"
    if op is sre.IN:
        return _class_char(arg)
    if op is sre.CATEGORY:
        return _CATEGORY_CHARS.get(arg, "a")
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        minimum: int  # sre's repeat argument is (min, max, subpattern)
        minimum, _maximum, sub = arg
        return _emit(sub) * minimum
    if op is sre.SUBPATTERN:
        return _emit(arg[3])
    if op is sre.ATOMIC_GROUP:
        return _emit(arg)
    if op is sre.BRANCH:
        return _emit(arg[1][0])
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        return ""
    raise _NoExample(str(op))


def _class_char(items: Sequence[tuple[Any, Any]]) -> str:
    if items and items[0][0] is sre.NEGATE:
        return _NEGATED_CANDIDATES[0]  # the final search checks it; a wrong guess gives no example
    op, arg = items[0]
    if op is sre.LITERAL:
        return chr(arg)
    if op is sre.RANGE:
        return chr(arg[0])
    if op is sre.CATEGORY:
        return _CATEGORY_CHARS.get(arg, "a")
    raise _NoExample(str(op))


def find_overlaps(
    db: FingerprintDB, fingerprints: Iterable[Fingerprint], known_pages: Iterable[tuple[str, Response]] = ()
) -> tuple[list[Overlap], int]:
    """Overlaps over every blockpage fingerprint's example and the known pages.

    ``known_pages`` are (name, response) pairs; a page's name stands in for
    the blockpage id.  Returns the overlaps and the number of examples checked.
    """
    checked = 0
    overlaps: list[Overlap] = []
    for fp in fingerprints:
        if fp.false_positive or fp.location == "dns":
            continue
        response = example_response(fp)
        if response is None:
            continue
        checked += 1
        found = _overlap(db, fp.fingerprint_id, fp.scope, *response)
        if found is not None:
            overlaps.append(found)
    for name, (body, headers) in known_pages:
        checked += 1
        found = _overlap(db, name, "page", body, headers)
        if found is not None:
            overlaps.append(found)
    return overlaps, checked


def _overlap(
    db: FingerprintDB, name: str, scope: str, body: str | bytes | None, headers: list[tuple[str, str]]
) -> Overlap | None:
    resolved = db.resolve_http(body, headers)
    false_positives = tuple(
        m.fingerprint_id for m in resolved.matches + resolved.suppressed if m.false_positive
    )
    if not false_positives or all(m.false_positive for m in resolved.matches):
        return None  # no overlap: no false positive, or no blockpage fingerprint at all
    own = next((m for m in resolved.matches if m.fingerprint_id == name), None)
    decider = resolved.decided_by
    assert decider is not None  # a false positive matched
    specific = own.specific if own is not None else precedence_tier(decider) == 0
    if not decider.false_positive:
        reason = (
            f"specific blockpage {decider.fingerprint_id} ({decider.source}, {decider.scope}) decides; "
            f"false positives suppressed"
        )
    else:
        reason = (
            f"false positive {decider.fingerprint_id} decides: no specific blockpage matches, "
            f"and false positives outrank generic signatures (Censored Planet's order)"
        )
    return Overlap(name, scope, specific, false_positives, decider.fingerprint_id, decider.specific, reason)


def overlap_report(overlaps: Sequence[Overlap], checked: int) -> str:
    """A plain-text report: counts, then one line per overlap, specific ones first."""
    specific = [o for o in overlaps if o.specific]
    generic = [o for o in overlaps if not o.specific]
    lost = [o for o in specific if not o.blockpage_decides]
    lines = [
        (
            f"examples checked: {checked}; overlapping a false-positive signature: {len(overlaps)} "
            f"({len(specific)} specific, {len(generic)} generic)"
        ),
        f"specific blockpages decided by a false positive: {len(lost)}",
        f"generic signatures a false positive shadows: {sum(not o.blockpage_decides for o in generic)}",
    ]
    for o in sorted(overlaps, key=lambda o: (not o.specific, o.blockpage_id)):
        kind = "specific" if o.specific else "generic"
        lines.append(
            f"{o.blockpage_id} [{kind}, {o.blockpage_scope}] x {', '.join(o.false_positives)}: {o.resolution}"
        )
    return "\n".join(lines)
