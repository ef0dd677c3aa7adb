"""DNS verdicts: one per (hostname, redirect hop), over the probe's primary resolver.

Only the primary ("classic") resolver is judged: it is what a user's browser
uses (the system resolver, or the resolver a netvigil probe was configured
with).  DoH answers serve as the unfiltered reference (see ``observations``);
other extension lookups are not judged, but a plain-DNS answer equal to the
primary one is evidence that it was forged on path.

Each rule's condition is one function below, registered under its id; they are
tried in the order of the rule table (``rules.RULES``), after OONI's: a blocking
fingerprint, failed lookups, bogons, names that do not exist, equal addresses,
same network, downstream symptoms, TLS proof, HTTP match.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from netvigil.analysis.downstream import Downstream
from netvigil.analysis.rules import Conditions, Finding, Hop, found, lazy
from netvigil.failures import Failure, is_nxdomain
from netvigil.model.observation import DNSObservation, HTTPObservation
from netvigil.model.verdict import Technique, Verdict

# Lookups over plain DNS to a chosen resolver (v0.5 E003): forged on path when they
# carry the same wrong answer as the system resolver.
PLAIN_DNS_ENGINES = frozenset({"udp"})

_FAILURE_TECHNIQUE: dict[str, Technique] = {
    Failure.DNS_NXDOMAIN_ERROR: Technique.DNS_NXDOMAIN,
    Failure.ANDROID_DNS_CACHE_NO_DATA: Technique.DNS_NXDOMAIN,
    Failure.DNS_REFUSED_ERROR: Technique.DNS_REFUSED,
    Failure.DNS_SERVFAIL_ERROR: Technique.DNS_SERVFAIL,
    Failure.GENERIC_TIMEOUT_ERROR: Technique.DNS_TIMEOUT,
}


def dns_verdicts(rows: Iterable[DNSObservation], downstream: Downstream) -> list[Verdict]:
    groups: dict[tuple[str, int], list[DNSObservation]] = defaultdict(list)
    plain: dict[tuple[str, int], set[str]] = defaultdict(set)
    for row in rows:
        if row.classic:
            groups[(row.hostname, row.depth)].append(row)
        elif row.engine in PLAIN_DNS_ENGINES and row.answer:
            plain[(row.hostname, row.depth)].add(row.answer)
    ordered = sorted(groups.items(), key=lambda item: (item[0][1], item[0][0]))
    return [DNS.judge(DNSCase(group, downstream, plain[key]), Hop(*key)) for key, group in ordered]


class DNSCase:
    """What the DNS rules ask about one (hostname, hop): the primary resolver's rows and
    what happened downstream.  Costly facts are computed only when a rule asks."""

    def __init__(self, rows: list[DNSObservation], downstream: Downstream, plain_answers: set[str]) -> None:
        ref = rows[0]  # every row carries the same reference facts
        self.rows, self.ref, self.depth = rows, ref, ref.depth
        self.downstream = downstream
        self.plain_answers = plain_answers
        self.answered = [r for r in rows if r.answer is not None]
        self.bogons = [r for r in self.answered if r.is_bogon]
        self.answers = sorted({r.answer for r in self.answered if r.answer})
        self.reference_says_nonexistent = (ref.reference_measured and not ref.reference_addrs
                                           and is_nxdomain(ref.reference_failure))
        self.ref_evidence: dict[str, Any] = dict(
            reference_addrs=list(ref.reference_addrs) or None, reference_failure=ref.reference_failure,
            reference_names=list(ref.reference_names) or None)
        self.ev: dict[str, Any] = dict(answers=self.answers, **self.ref_evidence)  # what verdicts on answers cite
        # The first answer that is a blocking address confirmed for the probe's country.
        self.confirmed = next((r for r in self.answered if r.fingerprint and not r.fingerprint.false_positive
                               and r.fingerprint.confirms_blocking(downstream.probe_cc)), None)

    @lazy
    def failure(self) -> str:
        return next((r.failure for r in self.rows if r.failure), Failure.DNS_NO_ANSWER.value)

    @property
    def failure_technique(self) -> Technique:
        return _FAILURE_TECHNIQUE.get(self.failure, Technique.DNS_FAILURE)

    @lazy
    def symptom(self) -> str | None:
        return self.downstream.failure_through(self.answers, self.depth)

    @lazy
    def tls_proof(self) -> bool:
        return any(r.tls_consistent for r in self.answered)

    @lazy
    def content_ok(self) -> bool:
        return self.downstream.content_matches_control(self.depth)

    @lazy
    def page(self) -> HTTPObservation | None:
        return self.downstream.served_through(self.depth)

    def networks(self) -> dict[str, Any]:
        """The evidence plus each answer's network, for verdicts decided by networks."""
        return dict(self.ev, answer_networks={
            r.answer: {"asn": r.answer_asn, "org": r.answer_org} for r in self.answered
            if r.answer and (r.answer_asn or r.answer_org)} or None)


DNS: Conditions[DNSCase] = Conditions("dns.")


@DNS.condition("dns.fingerprint")
def _fingerprint(c: DNSCase) -> Finding | None:
    hit = c.confirmed
    if hit is None or hit.fingerprint is None:
        return None
    match = hit.fingerprint
    return found(Technique.DNS_BOGON if hit.is_bogon else Technique.DNS_SPOOF, answer=hit.answer,
                 fingerprint=match.fingerprint_id, fingerprint_scope=match.scope,
                 fingerprint_countries=list(match.countries) or None, **c.ref_evidence)


# Failed lookups (no answer at all).

@DNS.condition("dns.failure_reference_failed")
def _failure_reference_failed(c: DNSCase) -> Finding | None:
    if c.answered or not c.ref.reference_measured or c.ref.reference_addrs:
        return None
    return found(Technique.DOWN, failure=c.failure, **c.ref_evidence)


@DNS.condition("dns.failure_reference_ok")
def _failure_reference_ok(c: DNSCase) -> Finding | None:
    if c.answered or not c.ref.reference_measured:
        return None
    return found(c.failure_technique, failure=c.failure, **c.ref_evidence)


@DNS.condition("dns.failure_control_fetched")
def _failure_control_fetched(c: DNSCase) -> Finding | None:
    if c.answered or c.depth == 0 or not c.downstream.control_fetched:
        return None
    return found(c.failure_technique, failure=c.failure)


@DNS.condition("dns.failure_no_reference")
def _failure_no_reference(c: DNSCase) -> Finding | None:
    return None if c.answered else found(c.failure_technique, failure=c.failure)


# Non-routable answers.

@DNS.condition("dns.bogon_in_reference")
def _bogon_in_reference(c: DNSCase) -> Finding | None:
    return found(Technique.DOWN, **c.ev) if c.bogons and any(r.in_reference for r in c.bogons) else None


@DNS.condition("dns.bogon_not_in_reference")
def _bogon_not_in_reference(c: DNSCase) -> Finding | None:
    if not c.bogons or not (c.ref.reference_addrs or is_nxdomain(c.ref.reference_failure)):
        return None
    return found(Technique.DNS_BOGON, bogon=c.bogons[0].answer, **c.ev)


@DNS.condition("dns.bogon_no_reference")
def _bogon_no_reference(c: DNSCase) -> Finding | None:
    return found(Technique.DNS_BOGON, bogon=c.bogons[0].answer, **c.ev) if c.bogons else None


# The reference says the name does not exist, but the probe's resolver answered:
# what did the address serve?

@DNS.condition("dns.nonexistent_name_blockpage")
def _nonexistent_name_blockpage(c: DNSCase) -> Finding | None:
    if not c.reference_says_nonexistent or c.page is None:
        return None
    page = c.page
    hit = next((m for m in page.fingerprints if not m.false_positive), None)
    return None if hit is None else found(Technique.DNS_SPOOF, fingerprint=hit.fingerprint_id, url=page.url, **c.ev)


@DNS.condition("dns.nonexistent_name_injected")
def _nonexistent_name_injected(c: DNSCase) -> Finding | None:
    if not c.reference_says_nonexistent or c.page is not None:
        return None
    injected = sorted(c.plain_answers & set(c.answers))
    if not injected:
        return None
    return found(Technique.DNS_SPOOF, plain_dns_answers=injected, **c.ev)


@DNS.condition("dns.nxdomain_rewriting")
def _nxdomain_rewriting(c: DNSCase) -> Finding | None:
    if not c.reference_says_nonexistent:
        return None
    page = c.page
    note = ("nxdomain_rewriting: the probe's resolver answered for a name that does not exist"
            + (f"; the address answered HTTP {page.status_code}" if page is not None else "")
            + (f" redirecting to {page.location}" if page is not None and page.location else ""))
    return found(Technique.DOWN, note=note, **c.ev)


# Consistency with the reference, in OONI's order.

@DNS.condition("dns.consistent_address")
def _consistent_address(c: DNSCase) -> Finding | None:
    return found(Technique.OK, **c.ev) if any(r.in_reference for r in c.answered) else None


@DNS.condition("dns.consistent_asn")
def _consistent_asn(c: DNSCase) -> Finding | None:
    return found(Technique.OK, **c.networks()) if any(r.asn_in_reference for r in c.answered) else None


@DNS.condition("dns.consistent_org")
def _consistent_org(c: DNSCase) -> Finding | None:
    return found(Technique.OK, **c.networks()) if any(r.org_in_reference for r in c.answered) else None


@DNS.condition("dns.no_reference")
def _no_reference(c: DNSCase) -> Finding | None:
    return None if c.ref.reference_addrs else found(Technique.UNKNOWN, **c.ev)


# Answers outside the reference's addresses and networks.  A valid certificate proves
# only that the address relays the site's TLS: a censor's proxy can do that and still
# replace plain-HTTP content, so downstream symptoms are asked first.

@DNS.condition("dns.inconsistent_and_failing")
def _inconsistent_and_failing(c: DNSCase) -> Finding | None:
    return found(Technique.DNS_SPOOF, downstream=c.symptom, **c.ev) if c.symptom else None


@DNS.condition("dns.hijacked_to_proxy")
def _hijacked_to_proxy(c: DNSCase) -> Finding | None:
    if not (c.tls_proof or c.content_ok):
        return None
    if not all(r.in_probe_network and r.doh_outside_probe_network for r in c.answered):
        return None
    return found(Technique.DNS_SPOOF, tls_proof=c.tls_proof, content_matches_control=c.content_ok, **c.networks())


@DNS.condition("dns.tls_consistent")
def _tls_consistent(c: DNSCase) -> Finding | None:
    return found(Technique.OK, **c.ev) if c.tls_proof else None


@DNS.condition("dns.inconsistent_content_ok")
def _inconsistent_content_ok(c: DNSCase) -> Finding | None:
    return found(Technique.OK, **c.ev) if c.content_ok else None


@DNS.condition("dns.inconsistent_unexplained")
def _inconsistent_unexplained(c: DNSCase) -> Finding:
    return found(Technique.DNS_SPOOF, **c.ev)
