"""Blockpage fingerprints: compiled once, matched in one pass over each response.

Two reference sets decide whether a DNS answer or an HTTP response is a known
blockpage: OONI's ``blocking-fingerprints`` (DNS answers, header values, body
text) and Censored Planet's blockpage and false-positive regexes.  Together they
hold about 3,000 patterns, and a verdict pipeline sees millions of bodies, so
looping over every regex per body is not an option.  Instead the database is
compiled once:

* every literal (``contains``) body pattern, and one *required literal* per
  body regex, go into one Aho-Corasick automaton, so a body is scanned once,
  in linear time, whatever the number of patterns (case-insensitive regexes,
  if any, get a second automaton run over the case-folded body);
* a regex runs only when the automaton saw its required literal (a regex with
  no safe literal goes into a short "always run" list);
* header patterns are few and are indexed by lower-cased header name;
* DNS patterns are exact answers in a dict.

Only the first :data:`MAX_BODY_SCAN` bytes (or characters, for ``str``
bodies) of a body are scanned: blockpages are small, and a cap keeps a 50 MB
download from costing more than a blockpage check is worth.

Regexes are compiled with ``re.DOTALL`` because Censored Planet's own matcher
does so (their signatures span lines of HTML).  This module does no file I/O;
:mod:`netvigil.store.reference_data` reads the reference files.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import astuple, dataclass
from re import _constants as sre  # type: ignore[attr-defined]  # the stdlib engine's opcodes
from re import _parser as sre_parse  # type: ignore[attr-defined]  # the only exact view of a regex
from typing import Any

import ahocorasick_rs

from netvigil.model.fingerprint import FALSE_POSITIVE_SCOPE as _FALSE_POSITIVE_SCOPE
from netvigil.model.fingerprint import FingerprintMatch

MAX_BODY_SCAN = 1 << 20
"""Bytes (bytes bodies) or characters (str bodies) of a body that are scanned."""

PATTERN_TYPES = frozenset({"full", "prefix", "contains", "regexp"})
SOURCES = frozenset({"ooni", "censoredplanet", "netvigil"})
REGEX_FLAGS = re.DOTALL

_SHORT_LITERAL = 3

# re's IGNORECASE treats these as case variants of ASCII letters, but
# str.lower() does not map them onto those letters ("İ".lower() is two
# characters).  Folding them first lets one lower-cased scan find every
# case-insensitive match of an ASCII literal.
_ASCII_CASE_VARIANTS = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """One reference pattern and where to look for it.

    ``location`` is ``"dns"``, ``"body"`` or ``"header.<lower-cased name>"``;
    ``countries`` are upper-case ISO codes where the pattern is expected
    (empty: anywhere).  ``false_positive`` marks patterns of pages that look
    odd but are not censorship (CDN challenges, parking pages); it must agree
    with ``scope == "fp"`` for OONI's fingerprints.
    """

    fingerprint_id: str
    source: str
    scope: str
    location: str
    pattern_type: str
    pattern: str
    countries: tuple[str, ...] = ()
    false_positive: bool = False

    def __post_init__(self) -> None:
        problem = _invalid_reason(self)
        if problem:
            raise ValueError(f"fingerprint {self.fingerprint_id!r}: {problem}")


def _invalid_reason(fp: Fingerprint) -> str | None:
    """Why ``fp`` breaks an invariant the matcher relies on, or None."""
    if fp.source not in SOURCES:
        return f"unknown source {fp.source!r}"
    if fp.pattern_type not in PATTERN_TYPES:
        return f"unknown pattern_type {fp.pattern_type!r}"
    if not fp.pattern:
        return "empty pattern"
    if fp.scope == _FALSE_POSITIVE_SCOPE and not fp.false_positive:
        return "scope fp must be marked false_positive"
    if fp.location == "dns" and fp.pattern_type != "full":
        return "dns fingerprints must be pattern_type full"
    header = fp.location.removeprefix("header.")
    if fp.location not in ("dns", "body") and (
        header == fp.location or not header or header != header.lower()
    ):
        return f"location {fp.location!r} is not dns, body or header.<lower-case name>"
    return None


def _match_of(fp: Fingerprint) -> FingerprintMatch:
    return FingerprintMatch(
        fp.fingerprint_id, fp.source, fp.scope, fp.location, fp.countries, fp.false_positive
    )


# ---------------------------------------------------------------------------
# Required literals of a regex

Trigger = tuple[str, bool]
"""A literal and whether it is searched case-insensitively (then lower-cased)."""

_Triggers = frozenset[Trigger] | None
_Node = tuple[Any, Any]  # (opcode, argument) in the stdlib regex parse tree


def required_literals(pattern: str, flags: int = REGEX_FLAGS) -> frozenset[Trigger] | None:
    """Literals of which every match of ``pattern`` contains at least one.

    Usually a single literal: the longest run of plain characters that every
    match must contain.  An alternation yields one literal per branch (a match
    contains one of them).  ``None`` means no safe literal exists, e.g. when a
    branch or the whole pattern can match without any fixed text, so the
    regex has to run on every body.

    Case-insensitive parts yield lower-cased literals flagged ``True``; only
    ASCII characters are used there, because for them :func:`fold_case` of
    the body provably contains every case variant that ``re`` would accept.
    The regex is read from the standard library's own parse tree, so escapes,
    classes, inline flags and verbose mode are understood exactly as ``re``
    understands them; unknown constructs just end a literal run.
    """
    try:
        parsed = sre_parse.parse(pattern, flags)
    except (re.error, OverflowError, RecursionError):
        return None
    return _sequence_triggers(parsed, bool(parsed.state.flags & re.IGNORECASE))


def fold_case(text: str) -> str:
    """``text`` as case-insensitive literals from :func:`required_literals` are searched."""
    return text.translate(_ASCII_CASE_VARIANTS).lower()


def _sequence_triggers(items: Iterable[_Node], ignore_case: bool) -> _Triggers:
    """The best trigger set of a concatenation: every element must match."""
    candidates: list[_Triggers] = []
    run: list[str] = []
    run_ci = False
    for op, arg, ci in _flatten_groups(items, ignore_case):
        char = _literal_char(op, arg, ci)
        if run and (char is None or ci != run_ci):
            candidates.append(frozenset({("".join(run), run_ci)}))
            run = []
        if char is None:
            candidates.append(_node_triggers(op, arg, ci))
        else:
            run.append(char)
            run_ci = ci
    if run:
        candidates.append(frozenset({("".join(run), run_ci)}))
    return _best(candidates)


def _flatten_groups(items: Iterable[_Node], ignore_case: bool) -> Iterator[tuple[Any, Any, bool]]:
    """Inline groups (each matches its content exactly once), tracking (?i:...)."""
    for op, arg in items:
        if op is sre.SUBPATTERN:
            _group, add_flags, del_flags, sub = arg
            ci = (ignore_case or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE
            yield from _flatten_groups(sub, ci)
        elif op is sre.ATOMIC_GROUP:
            yield from _flatten_groups(arg, ignore_case)
        else:
            yield op, arg, ignore_case


def _literal_char(op: Any, arg: Any, ignore_case: bool) -> str | None:
    """The character a plain-literal node matches (lower-cased if case-insensitive)."""
    if op is not sre.LITERAL:
        return None
    char = chr(arg)
    if not ignore_case:
        return char
    return char.lower() if char.isascii() else None


def _node_triggers(op: Any, arg: Any, ignore_case: bool) -> _Triggers:
    """Triggers of a non-literal node: alternations and mandatory repeats."""
    if op is sre.BRANCH:
        union: set[Trigger] = set()
        for branch in arg[1]:
            triggers = _sequence_triggers(branch, ignore_case)
            if triggers is None:
                return None
            union |= triggers
        return frozenset(union)
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        minimum, _maximum, sub = arg
        return _sequence_triggers(sub, ignore_case) if minimum >= 1 else None
    return None


def _best(candidates: Sequence[_Triggers]) -> _Triggers:
    """The most selective set: longest shortest literal, then fewest literals."""
    usable = [c for c in candidates if c]
    if not usable:
        return None
    return max(usable, key=lambda c: (min(len(lit) for lit, _ci in c), -len(c)))


# ---------------------------------------------------------------------------
# The database


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A fingerprint with its regex compiled (``None`` unless pattern_type regexp)."""

    index: int
    fingerprint: Fingerprint
    regex: re.Pattern[str] | None


class _HeaderIndex:
    """Header patterns by lower-cased header name; a few hundred, checked directly."""

    def __init__(self, compiled: Iterable[_Compiled]) -> None:
        self._by_name: dict[str, list[_Compiled]] = {}
        for item in compiled:
            name = item.fingerprint.location.removeprefix("header.")
            self._by_name.setdefault(name, []).append(item)

    def matches(self, headers: Iterable[tuple[str, str]]) -> set[int]:
        found: set[int] = set()
        for name, value in headers:
            for item in self._by_name.get(name.lower(), ()):
                if _value_matches(item, value):
                    found.add(item.index)
        return found


def _value_matches(item: _Compiled, value: str) -> bool:
    kind, pattern = item.fingerprint.pattern_type, item.fingerprint.pattern
    if kind == "full":
        return value == pattern
    if kind == "prefix":
        return value.startswith(pattern)
    if kind == "contains":
        return pattern in value
    return item.regex is not None and item.regex.search(value) is not None


class _Automaton:
    """One Aho-Corasick scan finding, per literal, which fingerprints it concerns.

    Each literal maps to (fingerprint index, is_match) pairs: ``True`` when
    finding the literal is the match (a ``contains`` pattern), ``False`` when
    it only makes a regex worth running.  Literals shorter than
    :data:`_SHORT_LITERAL` are tested with ``in`` instead: they can occur at
    almost every position (the Censored Planet pattern ``\ufffd.*\ufffd``
    hits 400,000 times in a 1 MiB binary body), and each automaton hit costs
    a Python-level step while ``in`` stays in C.
    """

    def __init__(self, literals: dict[str, list[tuple[int, bool]]]) -> None:
        self._actions = list(literals.values())
        self._short = [
            (literal, key) for key, literal in enumerate(literals) if len(literal) < _SHORT_LITERAL
        ]
        long_keys = [key for key, literal in enumerate(literals) if len(literal) >= _SHORT_LITERAL]
        # A DFA scans about 3.5x faster than pyahocorasick's automaton on 100 KB bodies
        # (bench/bench_fingerprints.py); it costs more memory, which a few thousand
        # short literals keep small.
        self._automaton: ahocorasick_rs.AhoCorasick | None = None
        self._automaton_keys = long_keys
        if long_keys:
            words = list(literals)
            self._automaton = ahocorasick_rs.AhoCorasick(
                [words[key] for key in long_keys], implementation=ahocorasick_rs.Implementation.DFA)

    def __bool__(self) -> bool:
        return bool(self._actions)

    def scan(self, text: str, matched: set[int], candidates: set[int]) -> None:
        """One linear pass: record direct matches and regex candidates."""
        keys = {key for literal, key in self._short if literal in text}
        if self._automaton is not None:
            found = self._automaton.find_matches_as_indexes(text, overlapping=True)
            keys.update(self._automaton_keys[index] for index, _start, _end in found)
        for key in keys:
            for index, is_match in self._actions[key]:
                (matched if is_match else candidates).add(index)


class _BodyIndex:
    """Body patterns: literals and regex prefilters in automata, the rest in lists."""

    def __init__(self, compiled: Iterable[_Compiled]) -> None:
        exact: dict[str, list[tuple[int, bool]]] = {}
        folded: dict[str, list[tuple[int, bool]]] = {}
        self._regexes: dict[int, re.Pattern[str]] = {}
        self._always: list[int] = []
        self._anchored: list[_Compiled] = []
        for item in compiled:
            kind = item.fingerprint.pattern_type
            if kind == "contains":
                exact.setdefault(item.fingerprint.pattern, []).append((item.index, True))
            elif kind in ("full", "prefix"):
                self._anchored.append(item)
            elif item.regex is not None:
                self._regexes[item.index] = item.regex
                triggers = required_literals(item.fingerprint.pattern)
                if triggers is None:
                    self._always.append(item.index)
                for literal, ignore_case in triggers or ():
                    (folded if ignore_case else exact).setdefault(literal, []).append((item.index, False))
        self._exact = _Automaton(exact)
        self._folded = _Automaton(folded)

    @property
    def always_run(self) -> int:
        return len(self._always)

    def matches(self, text: str) -> set[int]:
        matched: set[int] = set()
        candidates: set[int] = set(self._always)
        self._exact.scan(text, matched, candidates)
        if self._folded:
            self._folded.scan(fold_case(text), matched, candidates)
        for index in candidates - matched:
            if self._regexes[index].search(text) is not None:
                matched.add(index)
        for item in self._anchored:
            if _value_matches(item, text):
                matched.add(item.index)
        return matched


class FingerprintDB:
    """All fingerprints, compiled for matching; immutable once built.

    ``version`` is a short hash of the sorted fingerprint contents, so a
    verdict can record which fingerprint set decided it.  ``skipped`` lists
    the fingerprints (or upstream rows, as reported by the loader) that were
    left out, with the reason: a bad regex in reference data must cost one
    fingerprint, never the analysis.
    """

    def __init__(self, fingerprints: Iterable[Fingerprint], skipped: Iterable[str] = ()) -> None:
        self.skipped: list[str] = list(skipped)
        compiled = self._compile(fingerprints)
        self._fingerprints = [item.fingerprint for item in compiled]
        self._matches = [_match_of(fp) for fp in self._fingerprints]
        self.version = _version(self._fingerprints)
        self._dns: dict[str, int] = {}
        for item in compiled:
            if item.fingerprint.location == "dns":
                self._dns.setdefault(_normalise_answer(item.fingerprint.pattern), item.index)
        self._headers = _HeaderIndex(c for c in compiled if c.fingerprint.location.startswith("header."))
        self._body = _BodyIndex(c for c in compiled if c.fingerprint.location == "body")

    @classmethod
    def empty(cls) -> FingerprintDB:
        """A database that matches nothing, for when no reference data is available."""
        return cls(())

    @property
    def size(self) -> int:
        return len(self._fingerprints)

    @property
    def always_run_regexes(self) -> int:
        """Body regexes without a prefilter literal (each costs a search per body)."""
        return self._body.always_run

    def _compile(self, fingerprints: Iterable[Fingerprint]) -> list[_Compiled]:
        compiled: list[_Compiled] = []
        for fp in fingerprints:
            regex = None
            if fp.pattern_type == "regexp":
                try:
                    regex = re.compile(fp.pattern, REGEX_FLAGS)
                except (re.error, OverflowError, RecursionError) as exc:
                    self.skipped.append(f"{fp.source}:{fp.fingerprint_id}: bad regexp: {exc}")
                    continue
            compiled.append(_Compiled(len(compiled), fp, regex))
        return compiled

    def match_dns(self, answer: str) -> FingerprintMatch | None:
        """The fingerprint of a DNS answer (IP or hostname), by exact lookup.

        IP addresses are compared in canonical form and hostnames without
        case or trailing dot; if several fingerprints share an answer, the
        first one given to the database wins.
        """
        index = self._dns.get(_normalise_answer(answer))
        return None if index is None else self._matches[index]

    def match_http(
        self, body: str | bytes | None, headers: Iterable[tuple[str, str]] = ()
    ) -> list[FingerprintMatch]:
        """All fingerprints matching a response: false positives first, then blockpages.

        False positives come first because, as in Censored Planet's matcher,
        they take precedence: a page recognised as a CDN challenge is not a
        blockpage even if it also contains a blocking word.  Within each group
        the order is the order the fingerprints were given in.  ``bytes``
        bodies are decoded as UTF-8 with replacement characters.
        """
        found = self._headers.matches(headers) | self._body.matches(_body_text(body))
        ordered = sorted(found, key=lambda i: (not self._fingerprints[i].false_positive, i))
        return list(dict.fromkeys(self._matches[i] for i in ordered))


def _body_text(body: str | bytes | None) -> str:
    """The scanned part of a body: at most MAX_BODY_SCAN, decoded leniently."""
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body[:MAX_BODY_SCAN].decode("utf-8", errors="replace")
    return body[:MAX_BODY_SCAN]


def _normalise_answer(answer: str) -> str:
    """Canonical IP text, or a hostname without case and trailing dot."""
    text = answer.strip()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text.rstrip(".").lower()


def _version(fingerprints: Iterable[Fingerprint]) -> str:
    """A 12-hex-digit digest that does not depend on the fingerprints' order."""
    rows = sorted(json.dumps(astuple(fp), ensure_ascii=False) for fp in fingerprints)
    return hashlib.sha256("\n".join(rows).encode("utf-8")).hexdigest()[:12]
