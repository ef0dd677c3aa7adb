"""HTTP verdicts: failures along the redirect chain, then the final response.

Fingerprints are consulted first, false-positive signatures before blockpage
ones (Censored Planet's documented order), so a CDN challenge page is never
mistaken for a blockpage; the one exception is a national or ISP blockpage
fingerprint confirmed for the probe's own country, which is specific evidence
where some false-positive signatures are single common words.  A page received over verified HTTPS cannot have been
replaced on path, whatever it looks like.
"""

from __future__ import annotations

from typing import Any

from netvigil.analysis.downstream import Downstream
from netvigil.analysis.http_compare import matches_control
from netvigil.analysis.observations import hostname_of, is_bogon
from netvigil.analysis.rules import Hop, rule
from netvigil.failures import Failure, is_eof, is_reset, is_timeout
from netvigil.model.observation import HTTPObservation
from netvigil.model.verdict import Outcome, Technique, Verdict

_SITE_FAULTS = frozenset({Failure.HTTP_INVALID_REDIRECT_LOCATION_HOST})


def http_verdicts(rows: tuple[HTTPObservation, ...], downstream: Downstream) -> list[Verdict]:
    verdicts = []
    for row in rows:
        if row.failure:
            verdicts.append(_failed(row, downstream))
        elif row.is_final:
            verdicts.append(_final(row, downstream))
        else:
            verdicts.extend(_redirect_hop(row, downstream))
    return verdicts


def _redirect_hop(row: HTTPObservation, downstream: Downstream) -> list[Verdict]:
    """A redirect that is itself the blockpage (e.g. a Location to a national blocking site)."""
    where = Hop(row.hostname, row.depth)
    base: dict[str, Any] = dict(url=row.url, status_code=row.status_code, location=row.location)
    verdict = _fingerprint_verdict(row, downstream.probe_cc, where, base)
    return [verdict] if verdict is not None and verdict.outcome is Outcome.BLOCKED else []


def _failed(row: HTTPObservation, downstream: Downstream) -> Verdict:
    where = Hop(row.hostname, row.depth)
    ctrl = row.ctrl
    ev: dict[str, Any] = dict(url=row.url, failure=row.failure, status_code=row.status_code,
              control_failure=(ctrl.failure if ctrl else None) or row.control_failure)
    failure = row.failure or ""
    if row.location and is_bogon(hostname_of(row.location)):
        return rule("http.redirect_to_bogon").verdict(Technique.HTTP_BLOCKPAGE, at=where, location=row.location, **ev)
    if failure in _SITE_FAULTS:
        return rule("http.invalid_redirect").verdict(Technique.DOWN, at=where, location=row.location, **ev)
    if row.control_failure is not None or ctrl is None:
        return rule("http.failure_no_control").verdict(_technique(failure), at=where, **ev)
    if ctrl.failure is not None:
        return rule("http.failure_control_failed").verdict(Technique.DOWN, at=where, **ev)
    if is_timeout(failure) and row.status_code is not None:
        return rule("http.throttled").verdict(Technique.THROTTLING, at=where,
                                              control_body_length=ctrl.body_length, **ev)
    return rule("http.failure_control_ok").verdict(_technique(failure), at=where, **ev)


def _technique(failure: str) -> Technique:
    if is_reset(failure):
        return Technique.HTTP_RESET
    if is_timeout(failure):
        return Technique.HTTP_TIMEOUT
    if is_eof(failure):
        return Technique.HTTP_EOF
    return Technique.HTTP_FAILURE


def _final(row: HTTPObservation, downstream: Downstream) -> Verdict:
    where = Hop(row.hostname, row.depth)
    base: dict[str, Any] = dict(url=row.url, status_code=row.status_code, body_length=row.body_length)
    fingerprint = _fingerprint_verdict(row, downstream.probe_cc, where, base)
    if fingerprint is not None and fingerprint.outcome is not Outcome.UNKNOWN:
        return fingerprint
    if row.location and is_bogon(hostname_of(row.location)):
        return rule("http.redirect_to_bogon").verdict(Technique.HTTP_BLOCKPAGE, at=where, location=row.location, **base)
    if row.status_code is not None and 300 <= row.status_code < 400 and row.location:
        return rule("http.redirect_not_followed").verdict(Technique.UNKNOWN, at=where, location=row.location, **base)
    if row.scheme == "https":
        return rule("http.https_verified").verdict(Technique.OK, at=where, **base)
    if row.control_failure is not None or row.ctrl is None or row.ctrl.failure is not None:
        if fingerprint is not None:  # a weak fingerprint and nothing to compare with
            return fingerprint
        if row.ctrl is not None and row.ctrl.failure is not None and row.control_failure is None:
            return rule("http.control_failed_probe_ok").verdict(Technique.OK, at=where,
                                                                control_failure=row.ctrl.failure, **base)
        return rule("http.no_control").verdict(Technique.OK, at=where, control_failure=row.control_failure, **base)
    same, checks = matches_control(row)
    if same:
        return rule("http.matches_control").verdict(Technique.OK, at=where, url=row.url, **checks)
    weak = fingerprint.evidence.get("fingerprint") if fingerprint is not None else None
    return rule("http.diff").verdict(Technique.HTTP_DIFF, at=where, url=row.url, fingerprint=weak, **checks)


def _fingerprint_verdict(row: HTTPObservation, probe_cc: str, where: Hop, base: dict) -> Verdict | None:
    if not row.fingerprints:
        return None
    false_positives = [m for m in row.fingerprints if m.false_positive]
    confirming = [m for m in row.fingerprints if m.confirms_blocking(probe_cc)]
    # A national or ISP blockpage confirmed for this country is specific evidence and
    # outranks false-positive signatures, some of which are single words ("redirect").
    specific = [m for m in confirming if m.scope in ("nat", "isp") and probe_cc in m.countries]
    first = (specific or false_positives or confirming or list(row.fingerprints))[0]
    ev: dict[str, Any] = dict(fingerprint=first.fingerprint_id, fingerprint_source=first.source,
              fingerprint_scope=first.scope, fingerprint_location=first.location,
              fingerprint_countries=list(first.countries) or None, **base)
    if first.false_positive:
        return rule("http.false_positive_fingerprint").verdict(Technique.OK, at=where, **ev)
    if first.confirms_blocking(probe_cc):
        return rule("http.blockpage_fingerprint").verdict(Technique.HTTP_BLOCKPAGE, at=where, **ev)
    return rule("http.blockpage_fingerprint_unconfirmed").verdict(Technique.HTTP_BLOCKPAGE, at=where, **ev)
