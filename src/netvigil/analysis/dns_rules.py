"""DNS verdicts: one per (hostname, redirect hop), over the probe's primary resolver.

Only the primary ("classic") resolver is judged: it is what a user's browser
uses (the system resolver, or the resolver a netvigil probe was configured
with).  DoH answers serve as the unfiltered reference (see ``observations``);
other extension lookups are not judged, but a plain-DNS answer equal to the
primary one is evidence that it was forged on path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from netvigil.analysis.downstream import Downstream
from netvigil.analysis.rules import Hop, rule
from netvigil.failures import Failure, is_nxdomain
from netvigil.model.observation import DNSObservation
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
    return [_judge(host, depth, group, downstream, plain[(host, depth)]) for (host, depth), group in sorted(
        groups.items(), key=lambda item: (item[0][1], item[0][0]))]


def _judge(host: str, depth: int, rows: list[DNSObservation], downstream: Downstream,
           plain_answers: set[str]) -> Verdict:
    where = Hop(host, depth)
    answered = [r for r in rows if r.answer is not None]
    ref = rows[0]
    ref_evidence: dict[str, Any] = dict(reference_addrs=list(ref.reference_addrs) or None,
                                        reference_failure=ref.reference_failure,
                                        reference_names=list(ref.reference_names) or None)
    confirmed = [r for r in answered if r.fingerprint and not r.fingerprint.false_positive
                 and r.fingerprint.confirms_blocking(downstream.probe_cc)]
    if confirmed:
        hit = confirmed[0]
        match = hit.fingerprint
        assert match is not None  # selected above
        return rule("dns.fingerprint").verdict(
            Technique.DNS_BOGON if hit.is_bogon else Technique.DNS_SPOOF, at=where,
            answer=hit.answer, fingerprint=match.fingerprint_id, fingerprint_scope=match.scope,
            fingerprint_countries=list(match.countries) or None, **ref_evidence)
    if not answered:
        return _judge_failure(rows, where, ref_evidence, downstream)
    return _judge_answers(answered, where, ref_evidence, downstream, plain_answers)


def _judge_failure(rows: list[DNSObservation], where: Hop, ref_evidence: dict, downstream: Downstream) -> Verdict:
    failure = next((r.failure for r in rows if r.failure), Failure.DNS_NO_ANSWER.value)
    technique = _FAILURE_TECHNIQUE.get(failure, Technique.DNS_FAILURE)
    ref = rows[0]
    if not ref.reference_measured:
        if where.depth > 0 and downstream.control_fetched:
            return rule("dns.failure_control_fetched").verdict(technique, at=where, failure=failure)
        return rule("dns.failure_no_reference").verdict(technique, at=where, failure=failure)
    if ref.reference_addrs:
        return rule("dns.failure_reference_ok").verdict(technique, at=where, failure=failure, **ref_evidence)
    return rule("dns.failure_reference_failed").verdict(Technique.DOWN, at=where, failure=failure, **ref_evidence)


def _judge_answers(rows: list[DNSObservation], where: Hop, ref_evidence: dict, downstream: Downstream,
                   plain_answers: set[str]) -> Verdict:
    """OONI's order: bogon, equal addresses, same network, (symptoms), TLS proof, HTTP match."""
    answers = sorted({r.answer for r in rows if r.answer})
    ev: dict[str, Any] = dict(answers=answers, **ref_evidence)
    bogons = [r for r in rows if r.is_bogon]
    ref = rows[0]
    if bogons:
        if any(r.in_reference for r in bogons):
            return rule("dns.bogon_in_reference").verdict(Technique.DOWN, at=where, **ev)
        if ref.reference_addrs or is_nxdomain(ref.reference_failure):
            return rule("dns.bogon_not_in_reference").verdict(Technique.DNS_BOGON, at=where, bogon=bogons[0].answer, **ev)
        return rule("dns.bogon_no_reference").verdict(Technique.DNS_BOGON, at=where, bogon=bogons[0].answer, **ev)
    if ref.reference_measured and not ref.reference_addrs and is_nxdomain(ref.reference_failure):
        return _nonexistent_name(rows, where, ev, downstream, plain_answers)
    if any(r.in_reference for r in rows):
        return rule("dns.consistent_address").verdict(Technique.OK, at=where, **ev)
    if any(r.asn_in_reference for r in rows):
        return rule("dns.consistent_asn").verdict(Technique.OK, at=where, **_networks(rows, ev))
    if any(r.org_in_reference for r in rows):
        return rule("dns.consistent_org").verdict(Technique.OK, at=where, **_networks(rows, ev))
    if not ref.reference_addrs:
        return rule("dns.no_reference").verdict(Technique.UNKNOWN, at=where, **ev)
    # A valid certificate proves only that the address relays the site's TLS: a
    # censor's proxy can do that and still replace plain-HTTP content, so the
    # downstream symptoms are checked first.
    symptom = downstream.failure_through(answers, where.depth)
    if symptom:
        return rule("dns.inconsistent_and_failing").verdict(Technique.DNS_SPOOF, at=where, downstream=symptom, **ev)
    tls_proof = any(r.tls_consistent for r in rows)
    content_ok = downstream.content_matches_control(where.depth)
    if (tls_proof or content_ok) and all(r.in_probe_network and r.doh_outside_probe_network for r in rows):
        return rule("dns.hijacked_to_proxy").verdict(Technique.DNS_SPOOF, at=where, tls_proof=tls_proof,
                                                     content_matches_control=content_ok, **_networks(rows, ev))
    if tls_proof:
        return rule("dns.tls_consistent").verdict(Technique.OK, at=where, **ev)
    if content_ok:
        return rule("dns.inconsistent_content_ok").verdict(Technique.OK, at=where, **ev)
    return rule("dns.inconsistent_unexplained").verdict(Technique.DNS_SPOOF, at=where, **ev)


def _nonexistent_name(rows: list[DNSObservation], where: Hop, ev: dict, downstream: Downstream,
                      plain_answers: set[str]) -> Verdict:
    """The reference says NXDOMAIN but the probe's resolver answered: what did the address serve?"""
    page = downstream.served_through(where.depth)
    if page is not None and any(not m.false_positive for m in page.fingerprints):
        hit = next(m for m in page.fingerprints if not m.false_positive)
        return rule("dns.nonexistent_name_blockpage").verdict(
            Technique.DNS_SPOOF, at=where, fingerprint=hit.fingerprint_id, url=page.url, **ev)
    injected = sorted(plain_answers & set(ev["answers"]))
    if page is None and injected:
        return rule("dns.nonexistent_name_injected").verdict(Technique.DNS_SPOOF, at=where,
                                                             plain_dns_answers=injected, **ev)
    note = ("nxdomain_rewriting: the probe's resolver answered for a name that does not exist"
            + (f"; the address answered HTTP {page.status_code}" if page is not None else "")
            + (f" redirecting to {page.location}" if page is not None and page.location else ""))
    return rule("dns.nxdomain_rewriting").verdict(Technique.DOWN, at=where, note=note, **ev)


def _networks(rows: list[DNSObservation], ev: dict) -> dict[str, Any]:
    """The evidence plus each answer's network, for verdicts decided by networks."""
    return dict(ev, answer_networks={r.answer: {"asn": r.answer_asn, "org": r.answer_org} for r in rows
                                     if r.answer and (r.answer_asn or r.answer_org)} or None)
