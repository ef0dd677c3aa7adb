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
* header patterns (about 400, nearly all on ``Location``) go into one more
  automaton, run once over all fingerprinted header values of a response;
  each hit is confirmed with the pattern's exact test on that one header;
* DNS patterns are exact answers in a dict.

Only the first :data:`MAX_BODY_SCAN` bytes (or characters, for ``str``
bodies) of a body are scanned: blockpages are small, and a cap keeps a 50 MB
download from costing more than a blockpage check is worth.  A ``bytes`` body
is decoded as :mod:`netvigil.analysis.body_charset` explains (UTF-8, else the
declared charset); patterns about bytes that are not valid text (see
:func:`undecodable_byte_pattern`) run only on bodies that have such bytes.

Precedence (:meth:`FingerprintDB.match_http`), most decisive first:

1. *specific* blockpage fingerprints, which name who blocks: ISP- or
   country-scoped ones (scope ``isp``/``nat`` or expected countries listed),
   OONI's and Citizen Lab's own (``ooni.*``, ``cl.*``) and netvigil's
   (``nv.*``), except vague blocking words (scope ``vbw``);
2. false-positive signatures (CDN challenges, parking and error pages);
3. *generic* blockpage fingerprints: every other one (Censored Planet's
   product, corporate, unknown and general signatures, vague words).

A false-positive signature suppresses only generic matches: when a specific
fingerprint matches, the false positives that also match are left out (see
:meth:`FingerprintDB.resolve_http`).  Censored Planet's own order (false
positives before every blockpage) holds among their signatures, but some of
their false positives are single words ("redirect", "Coming soon") that real
ISP blockpages contain, and a missed block loses the evidence people need.

Regexes are compiled with ``re.DOTALL`` because Censored Planet's own matcher
does so (their signatures span lines of HTML).  This module does no file I/O;
:mod:`netvigil.store.reference_data` reads the reference files.
"""

from __future__ import annotations

import bisect
import hashlib
import ipaddress
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import astuple, dataclass
from functools import lru_cache
from re import _constants as sre  # type: ignore[attr-defined]  # the stdlib engine's opcodes
from re import _parser as sre_parse  # type: ignore[attr-defined]  # the only exact view of a regex
from typing import Any

import ahocorasick_rs

from netvigil.analysis.body_charset import UNDECODABLE_BYTES, decode_body_bytes
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
# Patterns about undecodable bytes

REPLACEMENT_CHARACTER = "\ufffd"
_UNDECODABLE_CLASS = f"[{UNDECODABLE_BYTES}]"
_UNDECODABLE_CHARS = re.compile(_UNDECODABLE_CLASS)


def undecodable_byte_pattern(pattern: str, pattern_type: str) -> tuple[str, str]:
    r"""A reference pattern with each U+FFFD read as "a byte that is not valid text".

    Censored Planet's signatures were written against bodies that their Go
    probes had stored as JSON strings, and Go's encoder writes U+FFFD for every
    byte that is not valid UTF-8.  So ``x_\ufffd\x1a``, whose pattern is
    ``\ufffd.*\ufffd``, means "a body with at least two undecodable bytes" (a
    binary response), not "a page that shows two replacement characters": an
    ordinary UTF-8 page may contain U+FFFD and is not binary.  Here each U+FFFD
    becomes a class of the lone surrogates that
    :mod:`netvigil.analysis.body_charset` keeps for undecodable bytes; a
    literal pattern holding U+FFFD becomes the equivalent regex.  Patterns
    without U+FFFD come back unchanged.
    """
    if REPLACEMENT_CHARACTER not in pattern:
        return pattern, pattern_type
    if pattern_type != "regexp":
        body = _UNDECODABLE_CLASS.join(re.escape(part) for part in pattern.split(REPLACEMENT_CHARACTER))
        anchored = {"full": f"\\A(?:{body})\\Z", "prefix": f"\\A(?:{body})"}
        return anchored.get(pattern_type, body), "regexp"
    out: list[str] = []
    in_class = escaped = False
    for char in pattern:
        if char == REPLACEMENT_CHARACTER:
            if escaped:  # a backslash before U+FFFD escapes the same character
                out.pop()
                escaped = False
            out.append(UNDECODABLE_BYTES if in_class else _UNDECODABLE_CLASS)
            continue
        out.append(char)
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class and out[-2:-1] != ["["]:
            in_class = False
    return "".join(out), "regexp"


def _about_undecodable_bytes(pattern: str) -> bool:
    return _UNDECODABLE_CHARS.search(pattern) is not None


def lazy_quantifiers(pattern: str) -> str:
    """``pattern`` with its greedy quantifiers made lazy: the same texts match, sooner.

    Whether ``search`` finds a match does not depend on greediness, but the
    time does: ``[bad byte].*[bad byte]`` greedy runs to the end of a 1 MB body
    and back, lazy stops at the next bad byte.  Used for the patterns about
    undecodable bytes, which have no literal to prefilter them.  Possessive
    quantifiers (``*+``) and literal braces stay as they are.

    The claim holds only where the engine may backtrack into what a quantifier
    took: inside a possessive quantifier, an atomic group or a lookaround it may
    not, and there a lazy quantifier changes what matches (``(?:a|.*)*+.`` finds
    nothing in ``"."``, ``(?:a|.*?)*+.`` finds it), so such patterns are returned
    unchanged.
    """
    if _NO_BACKTRACKING.search(pattern):
        return pattern
    out: list[str] = []
    in_class = escaped = after_quantifier = False
    n = 0
    while n < len(pattern):
        char = pattern[n]
        repeat = _COUNTED_REPEAT.match(pattern, n) if char == "{" and not (escaped or in_class) else None
        token = repeat.group() if repeat else char
        n += len(token)
        out.append(token)
        quantifier = False
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]" or out[-2:-1] == ["["] or out[-3:-1] == ["[", "^"]
        elif char == "[":
            in_class = True
        elif repeat or char in "*+" or (char == "?" and out[-2:-1] != ["("]):
            quantifier = not after_quantifier  # else it is the lazy or possessive mark of one
        if quantifier and pattern[n : n + 1] not in ("?", "+"):
            out.append("?")
        after_quantifier = quantifier
    return "".join(out)


_COUNTED_REPEAT = re.compile(r"\{(?:\d+(?:,\d*)?|,\d+)\}")
# A possessive quantifier, an atomic group or a lookaround (over-approximated: an
# escaped or bracketed lookalike only costs the speed-up, never a wrong match).
_NO_BACKTRACKING = re.compile(r"[*+?}]\+|\(\?(?:>|=|!|<=|<!)")


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
    """Header patterns of all header names in one automaton, run once per response.

    The fingerprinted header values of a response are joined into one text,
    each value preceded and followed by NUL: ``\\0v1\\0v2\\0``.  A ``contains``
    pattern is searched as itself, a ``prefix`` as NUL + pattern, a ``full`` as
    NUL + pattern + NUL, a regex by its required literal.  The automaton only
    proposes (fingerprint, header) pairs: each is confirmed by the pattern's
    exact test on that header's own name and value, so a NUL inside a value
    cannot make a match, and the results are those of checking every pattern
    against every header.  Regexes without a case-sensitive literal are run on
    every header of their name.
    """

    def __init__(self, compiled: Iterable[_Compiled]) -> None:
        literals: dict[str, list[_Compiled]] = {}
        self._always: dict[str, list[_Compiled]] = {}
        names: set[str] = set()
        for item in compiled:
            names.add(_header_name(item))
            searched = _header_literals(item)
            for literal in searched:
                literals.setdefault(literal, []).append(item)
            if not searched:
                self._always.setdefault(_header_name(item), []).append(item)
        self._names = frozenset(names)
        self._actions = list(literals.values())
        self._automaton = (
            ahocorasick_rs.AhoCorasick(list(literals), implementation=ahocorasick_rs.Implementation.DFA)
            if literals else None)

    def matches(self, headers: Iterable[tuple[str, str]]) -> set[int]:
        wanted = [(name.lower(), value) for name, value in headers if name.lower() in self._names]
        if not wanted:
            return set()
        found: set[int] = set()
        if self._automaton is not None:
            starts, text = _joined(value for _name, value in wanted)
            for key, start, _end in _find(self._automaton, text):
                segment = bisect.bisect_right(starts, start) - 1
                name, value = wanted[segment]
                for item in self._actions[key]:
                    if item.index not in found and _header_name(item) == name and _value_matches(item, value):
                        found.add(item.index)
        for name, value in wanted:
            for item in self._always.get(name, ()):
                if _value_matches(item, value):
                    found.add(item.index)
        return found


_NUL = "\x00"


def _header_name(item: _Compiled) -> str:
    return item.fingerprint.location.removeprefix("header.")


def _header_literals(item: _Compiled) -> tuple[str, ...]:
    """What the header automaton searches for a pattern; empty: test every header."""
    kind, pattern = item.fingerprint.pattern_type, item.fingerprint.pattern
    if kind == "contains":
        return (pattern,)
    if kind == "prefix":
        return (_NUL + pattern,)
    if kind == "full":
        return (_NUL + pattern + _NUL,)
    triggers = required_literals(pattern)
    if triggers is None or any(ignore_case for _literal, ignore_case in triggers):
        return ()
    return tuple(sorted(literal for literal, _ignore_case in triggers))


def _joined(values: Iterable[str]) -> tuple[list[int], str]:
    """Header values as one NUL-separated text, and where each segment (its NUL) starts."""
    starts: list[int] = []
    parts: list[str] = []
    offset = 0
    for value in values:
        starts.append(offset)
        parts.append(_NUL + value)
        offset += len(value) + 1
    parts.append(_NUL)
    return starts, "".join(parts)


def _find(automaton: ahocorasick_rs.AhoCorasick, text: str) -> list[tuple[int, int, int]]:
    """Overlapping hits; lone surrogates (not UTF-8, so not searchable) count as U+FFFD."""
    try:
        return automaton.find_matches_as_indexes(text, overlapping=True)
    except UnicodeEncodeError:
        return automaton.find_matches_as_indexes(_without_surrogates(text), overlapping=True)


def _utf8(text: str) -> bytes:
    """``text`` as UTF-8; lone surrogates (not UTF-8, so not searchable) count as U+FFFD, as in :func:`_find`."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _without_surrogates(text).encode("utf-8")


def _without_surrogates(text: str) -> str:
    return _SURROGATES.sub(REPLACEMENT_CHARACTER, text)


_SURROGATES = re.compile("[\ud800-\udfff]")


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
    almost every position (a one-character literal can hit 400,000 times in
    a 1 MiB binary body), and each automaton hit costs a Python-level step
    while ``in`` stays in C.
    """

    def __init__(self, literals: dict[str, list[tuple[int, bool]]]) -> None:
        self._actions = list(literals.values())
        self._short = [
            (literal, key) for key, literal in enumerate(literals) if len(literal) < _SHORT_LITERAL
        ]
        long_keys = [key for key, literal in enumerate(literals) if len(literal) >= _SHORT_LITERAL]
        # A DFA scans about 3.5x faster than pyahocorasick's automaton on 100 KB bodies
        # (bench/bench_fingerprints.py); it costs more memory, which a few thousand
        # short literals keep small.  It runs over the UTF-8 bytes of the text: the str
        # automaton converts each text to UTF-8 anyway and then maps every hit back to
        # character offsets, which a body scan never uses (a third of its time).  A
        # literal's UTF-8 bytes occur in a text's UTF-8 bytes exactly where the literal
        # occurs in the text, because no character's encoding starts inside another's.
        self._automaton: ahocorasick_rs.BytesAhoCorasick | None = None
        self._automaton_keys = long_keys
        if long_keys:
            words = list(literals)
            self._automaton = ahocorasick_rs.BytesAhoCorasick(
                [_utf8(words[key]) for key in long_keys], implementation=ahocorasick_rs.Implementation.DFA)

    def __bool__(self) -> bool:
        return bool(self._actions)

    def scan(self, text: str, matched: set[int], candidates: set[int]) -> None:
        """One linear pass: record direct matches and regex candidates."""
        keys = {key for literal, key in self._short if literal in text}
        if self._automaton is not None:
            found = self._automaton.find_matches_as_indexes(_utf8(text), overlapping=True)
            keys.update(self._automaton_keys[index] for index, _start, _end in found)
        for key in keys:
            for index, is_match in self._actions[key]:
                (matched if is_match else candidates).add(index)


class _BodyIndex:
    """Body patterns: literals and regex prefilters in automata, the rest in lists.

    Patterns about undecodable bytes are kept apart: they run, on the body
    with its undecodable bytes kept, only when there are such bytes.
    """

    def __init__(self, compiled: Iterable[_Compiled]) -> None:
        exact: dict[str, list[tuple[int, bool]]] = {}
        folded: dict[str, list[tuple[int, bool]]] = {}
        self._regexes: dict[int, re.Pattern[str]] = {}
        self._always: list[int] = []
        self._anchored: list[_Compiled] = []
        self._undecodable: list[tuple[int, re.Pattern[str]]] = []
        for item in compiled:
            kind = item.fingerprint.pattern_type
            if item.regex is not None and _about_undecodable_bytes(item.fingerprint.pattern):
                self._undecodable.append((item.index, _lazy_regex(item)))
            elif kind == "contains":
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

    def matches(self, text: str, raw: str | None = None) -> set[int]:
        """Fingerprints matching ``text``; ``raw`` is the body with undecodable bytes kept."""
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
        if raw is not None:
            matched.update(index for index, regex in self._undecodable if regex.search(raw) is not None)
        return matched


def _lazy_regex(item: _Compiled) -> re.Pattern[str]:
    try:
        return re.compile(lazy_quantifiers(item.fingerprint.pattern), REGEX_FLAGS)
    except re.error:  # a construct the rewrite misread: keep the pattern as given
        assert item.regex is not None
        return item.regex


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
        self._tiers = [precedence_tier(match) for match in self._matches]
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
    def fingerprints(self) -> tuple[Fingerprint, ...]:
        """The fingerprints compiled, in the order given (bad regexes left out)."""
        return tuple(self._fingerprints)

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
        """The fingerprints that count for a response, the deciding one first.

        The order is the precedence in the module docstring: specific
        blockpages, then false positives, then generic blockpages; within each
        tier, the order the fingerprints were given in.  False positives are
        left out when a specific blockpage matches too (they are in
        :meth:`resolve_http`'s ``suppressed``).  A ``bytes`` body is decoded by
        :func:`netvigil.analysis.body_charset.decode_body_bytes`, using the
        ``Content-Type`` among ``headers``.
        """
        ordered, _suppressed = self._resolve(body, headers)
        return list(dict.fromkeys(self._matches[i] for i in ordered))

    def resolve_http(
        self, body: str | bytes | None, headers: Iterable[tuple[str, str]] = ()
    ) -> HTTPResolution:
        """:meth:`match_http` with the false positives a specific blockpage overruled."""
        ordered, suppressed = self._resolve(body, headers)
        return HTTPResolution(
            tuple(dict.fromkeys(self._matches[i] for i in ordered)),
            tuple(dict.fromkeys(self._matches[i] for i in suppressed)),
        )

    def _resolve(
        self, body: str | bytes | None, headers: Iterable[tuple[str, str]]
    ) -> tuple[list[int], list[int]]:
        """Indices of the matches in precedence order, and of the false positives suppressed."""
        headers = headers if isinstance(headers, (list, tuple)) else list(headers)
        text, raw = _body_text(body, headers)
        found = sorted(self._headers.matches(headers) | self._body.matches(text, raw))
        tiers = self._tiers
        if any(tiers[i] == _SPECIFIC for i in found):
            kept = [i for i in found if tiers[i] != _FALSE_POSITIVE]
            return sorted(kept, key=tiers.__getitem__), [i for i in found if tiers[i] == _FALSE_POSITIVE]
        return sorted(found, key=tiers.__getitem__), []


@dataclass(frozen=True, slots=True)
class HTTPResolution:
    """What matched a response: ``matches`` as :meth:`FingerprintDB.match_http` returns them,
    ``suppressed`` the false-positive signatures that matched but a specific blockpage overruled."""

    matches: tuple[FingerprintMatch, ...]
    suppressed: tuple[FingerprintMatch, ...]

    @property
    def decided_by(self) -> FingerprintMatch | None:
        return self.matches[0] if self.matches else None


_SPECIFIC, _FALSE_POSITIVE, _GENERIC = 0, 1, 2


def precedence_tier(match: FingerprintMatch) -> int:
    """0 for a specific blockpage, 1 for a false positive, 2 for a generic blockpage."""
    if match.false_positive:
        return _FALSE_POSITIVE
    return _SPECIFIC if match.specific else _GENERIC


def _body_text(body: str | bytes | None, headers: Sequence[tuple[str, str]]) -> tuple[str, str | None]:
    """The scanned part of a body as text, and as raw text when it has undecodable bytes."""
    if body is None:
        return "", None
    if isinstance(body, bytes):
        decoded = decode_body_bytes(body[:MAX_BODY_SCAN], headers)
        return decoded.text, decoded.raw
    return body[:MAX_BODY_SCAN], None


@lru_cache(maxsize=65536)  # parsing an address costs microseconds, and a few addresses recur throughout
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
    return hashlib.sha256("\n".join(rows).encode("utf-8", "surrogatepass")).hexdigest()[:12]
