"""The verdict rules, as data: id, version, layer, outcome, confidence, meaning.

Each rule's condition is a small function registered under its id in the layer
module (``dns_rules``, ``endpoint_rules``, ``http_rules``); the conditions of a
layer are tried in the order listed here and the first that holds decides a row,
as in a decision list (a condition may assume every earlier one failed).
Changing what a rule means requires a new version (or a new id), never an edit
in place, so every stored verdict can be traced to the exact text below through
``Verdict.rule`` (``id@version``).

Confidence is the rule's prior that its verdict is right, set conservatively:
rules without a control or a fingerprint never claim more than 0.6, and a rule
that sees the control fail too can only say ``down``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from netvigil.model.verdict import Layer, Outcome, Technique, Verdict

RULES_VERSION = "2026.12.1"
Fact = TypeVar("Fact")


@dataclass(frozen=True, slots=True)
class Hop:
    """Where along the redirect chain a verdict applies."""

    hostname: str
    depth: int


@dataclass(frozen=True, slots=True)
class Rule:
    rule_id: str
    version: int
    layer: Layer
    outcome: Outcome
    confidence: float
    meaning: str

    @property
    def ref(self) -> str:
        return f"{self.rule_id}@{self.version}"

    def verdict(self, technique: Technique, *, at: Hop, **evidence: Any) -> Verdict:
        return self.verdict_of(technique, at, evidence)

    def verdict_of(self, technique: Technique, at: Hop, evidence: dict[str, Any]) -> Verdict:
        """The verdict with ``evidence`` minus its empty (None) entries."""
        return Verdict(
            layer=self.layer, technique=technique, outcome=self.outcome,
            confidence=self.confidence, rule=self.ref, hostname=at.hostname, depth=at.depth,
            evidence={k: v for k, v in evidence.items() if v is not None},
        )


def _r(rule_id: str, layer: Layer, outcome: Outcome, confidence: float, meaning: str, version: int = 1) -> Rule:
    return Rule(rule_id, version, layer, outcome, confidence, meaning)


B, D, K, U, T = Outcome.BLOCKED, Outcome.DOWN, Outcome.OK, Outcome.UNKNOWN, Outcome.TAMPERED
DNS, TCP, TLS, HTTP, WEB = Layer.DNS, Layer.TCP, Layer.TLS, Layer.HTTP, Layer.WEB

RULES: tuple[Rule, ...] = (
    # DNS, per hostname and redirect hop, over the probe's own resolver.
    _r("dns.fingerprint", DNS, B, 1.0, "An answer is a known blocking address (DNS fingerprint that confirms blocking in this country or at ISP/national scope)."),
    _r("dns.failure_reference_failed", DNS, D, 0.9, "The lookup failed and the unfiltered reference (helper or DoH) found no address either: the name does not resolve for anyone."),
    _r("dns.failure_reference_ok", DNS, B, 0.9, "The lookup failed (NXDOMAIN, refused, servfail, timeout, no answer) while the unfiltered reference resolved the name."),
    _r("dns.failure_control_fetched", DNS, B, 0.7, "The lookup of a redirect hop's name failed while the helper fetched the page through the same redirects."),
    _r("dns.failure_no_reference", DNS, U, 0.4, "The lookup failed and there is no unfiltered reference to compare with."),
    _r("dns.bogon_in_reference", DNS, D, 0.8, "The unfiltered reference returns the same non-routable address: the site is unreachable from the Internet for everyone."),
    _r("dns.bogon_not_in_reference", DNS, B, 0.95, "A non-routable answer (private, loopback, reserved) that the unfiltered reference did not return."),
    _r("dns.bogon_no_reference", DNS, U, 0.5, "A non-routable answer with no unfiltered reference to compare with."),
    # A name the reference says does not exist, answered by the probe's resolver anyway.
    _r("dns.nonexistent_name_blockpage", DNS, B, 0.7, "The unfiltered reference says the name does not exist, yet the probe's resolver answered and the address served a blockpage (a fingerprint that is not a false positive): a censor points blocked names, existing or not, at its blockpage."),
    _r("dns.nonexistent_name_injected", DNS, T, 0.6, "The unfiltered reference says the name does not exist; nothing could be fetched through the probe's answer, and a public resolver asked over plain DNS returned the same address: forged on path, but nothing that exists was denied."),
    _r("dns.nxdomain_rewriting", DNS, D, 0.8, "The unfiltered reference says the name does not exist and the probe's resolver answered anyway (ISP NXDOMAIN rewriting, typically to a search or advertising page). A name that does not exist cannot be censored: the site is down; the rewriting is kept as a note."),
    # DNS consistency, in OONI's order: equal addresses, same network, TLS proof, HTTP match.
    _r("dns.consistent_address", DNS, K, 0.9, "An answer is among the unfiltered reference's addresses."),
    _r("dns.consistent_asn", DNS, K, 0.85, "No answer equals the reference's, but one lies in the same AS as the reference's addresses (a CDN hands out other edges of its network)."),
    _r("dns.consistent_org", DNS, K, 0.75, "No answer equals the reference's or shares its AS number, but one belongs to the same organisation (a CDN that announces several ASes)."),
    _r("dns.no_reference", DNS, U, 0.3, "Routable answers but no unfiltered reference for this name."),
    _r("dns.inconsistent_and_failing", DNS, B, 0.85, "No answer is among the reference's addresses or networks, and the answered addresses then failed or served different content while the control succeeded (IPv6 connects of a probe without IPv6 do not count).", version=2),
    _r("dns.hijacked_to_proxy", DNS, T, 0.6, "The answers lie in the probe's own network, outside the reference's networks, while the probe's own encrypted (DoH) lookup placed the name elsewhere; the right page still arrived through them: DNS sends users to a transparent proxy."),
    _r("dns.tls_consistent", DNS, K, 0.85, "Answers differ from the reference, but the address proved with a valid TLS certificate that it serves the name, and nothing failed through it."),
    _r("dns.inconsistent_content_ok", DNS, K, 0.6, "Answers differ from the reference (CDN or geo-DNS) but the content fetched through them matches the control."),
    _r("dns.inconsistent_unexplained", DNS, U, 0.5, "Answers differ from the reference and nothing downstream confirms or refutes interference (a known false-positive source)."),
    # TCP, per endpoint whose address is not already explained by DNS.
    _r("tcp.ipv6_unavailable", TCP, U, 0.2, "An IPv6 endpoint was unreachable: the probe's network likely has no IPv6."),
    _r("tcp.failure_control_failed", TCP, D, 0.9, "The connection failed and the helper's connection to the same endpoint failed too."),
    _r("tcp.failure_but_site_loaded", TCP, U, 0.3, "The connection failed but the page loaded through another address."),
    _r("tcp.failure_control_ok", TCP, B, 0.9, "The connection failed while the helper connected to the same endpoint."),
    _r("tcp.failure_control_fetched", TCP, B, 0.7, "The connection failed on a hop the helper did not test, while the helper fetched the page through the same redirects."),
    _r("tcp.failure_no_control", TCP, U, 0.4, "The connection failed and there is no control for it."),
    # TLS, per endpoint with a successful connection.
    _r("tls.failure_control_failed", TLS, D, 0.9, "The handshake failed and the helper's handshake with the same endpoint failed too (a broken certificate or server)."),
    _r("tls.failure_but_site_loaded", TLS, U, 0.3, "The handshake failed but the page loaded through another address."),
    _r("tls.certificate_control_ok", TLS, B, 0.85, "The certificate was invalid for the probe while the helper validated the same endpoint: a middlebox presented its own certificate."),
    _r("tls.failure_control_ok", TLS, B, 0.9, "The handshake was reset, timed out or cut while the helper completed it with the same endpoint."),
    _r("tls.failure_control_fetched", TLS, B, 0.7, "The handshake failed on a hop the helper did not test, while the helper fetched the page through the same redirects."),
    _r("tls.failure_no_control", TLS, U, 0.4, "The handshake failed and there is no control for it."),
    # HTTP, per transaction of the redirect chain.
    _r("http.false_positive_fingerprint", HTTP, K, 0.8, "The response matches a known false-positive signature (CDN challenge, default server page): not a blockpage."),
    _r("http.blockpage_fingerprint", HTTP, B, 1.0, "The response matches a blockpage fingerprint that confirms blocking."),
    _r("http.redirect_to_bogon", HTTP, B, 0.8, "The response redirects to a non-routable address (a filter's portal such as a firewall's user-check page), which no public site does."),
    _r("http.invalid_redirect", HTTP, D, 0.6, "The site's own redirect points to an unusable location: a fault of the site, not of the network."),
    _r("http.failure_no_control", HTTP, U, 0.4, "The request failed and there is no control for it."),
    _r("http.failure_control_failed", HTTP, D, 0.85, "The request failed and the helper's fetch failed too."),
    _r("http.throttled", HTTP, B, 0.7, "The response started (status and headers arrived) but the body stalled until the timeout, while the helper fetched it whole."),
    _r("http.failure_control_ok", HTTP, B, 0.85, "The request was reset, cut or timed out while the helper fetched the page."),
    _r("http.redirect_not_followed", HTTP, U, 0.3, "The last response recorded is a redirect: the next hop failed before any HTTP exchange (see that hop's verdicts)."),
    _r("http.https_verified", HTTP, K, 0.9, "The page arrived over HTTPS with a valid certificate: its content cannot have been replaced on path."),
    _r("http.blockpage_fingerprint_unconfirmed", HTTP, U, 0.5, "The response matches a blockpage fingerprint of another country or a vague blocking word, and there is no control to compare with."),
    _r("http.control_failed_probe_ok", HTTP, K, 0.6, "The probe fetched the page while the helper could not."),
    _r("http.no_control", HTTP, K, 0.5, "The probe fetched the page, no blockpage fingerprint matched, and there is no control to compare with."),
    _r("http.matches_control", HTTP, K, 0.85, "The final response matches the helper's (status, and body length, title or distinctive headers)."),
    _r("http.diff", HTTP, B, 0.6, "The final response differs from the helper's in status, body length, title and distinctive headers (a weak fingerprint match, if any, is cited)."),
    # Whole measurement.
    _r("web.insufficient", WEB, U, 0.0, "No layer produced evidence either way."),
)

BY_ID: dict[str, Rule] = {rule.rule_id: rule for rule in RULES}


def rule(rule_id: str) -> Rule:
    return BY_ID[rule_id]


# Rules no longer emitted, kept so that stored verdicts citing them stay traceable.
RETIRED_RULES: tuple[Rule, ...] = (
    _r("dns.answer_for_nonexistent_name", DNS, B, 0.9, "The resolver answered with addresses for a name the unfiltered reference says does not exist. Retired 2026.12: replaced by dns.nxdomain_rewriting, dns.nonexistent_name_blockpage and dns.nonexistent_name_injected."),
    _r("dns.consistent", DNS, K, 0.9, "An answer is among the reference's addresses or shares their ASN. Retired 2026.12: split into dns.consistent_address and dns.consistent_asn (plus dns.consistent_org)."),
    _r("dns.inconsistent_and_failing", DNS, B, 0.85, "No answer is among the reference's addresses or ASNs, and the answered addresses then failed or served different content while the control succeeded. Retired 2026.12 by version 2 (IPv6 on probes without IPv6)."),
)


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule's condition found: the technique it names and the evidence it cites."""

    technique: Technique
    evidence: dict[str, Any]


def found(technique: Technique, **evidence: Any) -> Finding:
    return Finding(technique, evidence)


class lazy(Generic[Fact]):
    """A fact of a case computed on first use, then read as a plain attribute.

    Like ``functools.cached_property`` without its lock (Python 3.11 takes one on
    every first access), which costs more than most facts rules ask for."""

    def __init__(self, compute: Callable[[Any], Fact]) -> None:
        self.compute = compute
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, case: None, owner: type | None = None) -> lazy[Fact]: ...

    @overload
    def __get__(self, case: object, owner: type | None = None) -> Fact: ...

    def __get__(self, case: object, owner: type | None = None) -> Fact | lazy[Fact]:
        if case is None:
            return self
        value = self.compute(case)
        case.__dict__[self.name] = value  # shadows this (non-data) descriptor from now on
        return value


Case = TypeVar("Case")
Condition = Callable[[Case], Finding | None]


class Conditions(Generic[Case]):
    """The conditions of one layer's rules, each registered under its rule id.

    They are tried in the order of ``RULES`` (data), not in the order the functions
    happen to be written, so the table above is the one place that says which rule
    wins when several hold.  Registration fails for an id the table does not hold.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._by_id: dict[str, Condition[Case]] = {}
        self._ordered: tuple[tuple[Rule, Condition[Case]], ...] = ()
        self._subsets: dict[frozenset[str], tuple[tuple[Rule, Condition[Case]], ...]] = {}

    def condition(self, rule_id: str) -> Callable[[Condition[Case]], Condition[Case]]:
        if rule_id not in BY_ID or not rule_id.startswith(self.prefix):
            raise KeyError(f"{rule_id} is not a {self.prefix}* rule of the table")

        def register(fn: Condition[Case]) -> Condition[Case]:
            if rule_id in self._by_id:
                raise ValueError(f"{rule_id} already has a condition")
            self._by_id[rule_id] = fn
            self._ordered = tuple((r, self._by_id[r.rule_id]) for r in RULES if r.rule_id in self._by_id)
            self._subsets.clear()
            return fn
        return register

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """The registered rules in the order they are tried."""
        return tuple(r.rule_id for r, _ in self._ordered)

    def decide(self, case: Case, at: Hop, among: frozenset[str] | None = None) -> Verdict | None:
        """The verdict of the first rule (of ``among``, if given) whose condition holds."""
        ordered = self._ordered if among is None else self._subset(among)
        for r, holds in ordered:
            finding = holds(case)
            if finding is not None:
                return r.verdict_of(finding.technique, at, finding.evidence)
        return None

    def _subset(self, among: frozenset[str]) -> tuple[tuple[Rule, Condition[Case]], ...]:
        subset = self._subsets.get(among)
        if subset is None:
            subset = self._subsets[among] = tuple(item for item in self._ordered if item[0].rule_id in among)
        return subset

    def judge(self, case: Case, at: Hop) -> Verdict:
        """Like ``decide`` for a layer whose last rule always holds."""
        verdict = self.decide(case, at)
        if verdict is None:
            raise LookupError(f"no {self.prefix}* rule decided: the layer's last condition must always hold")
        return verdict
