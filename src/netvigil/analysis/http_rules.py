"""HTTP verdicts: failures along the redirect chain, then the final response.

Fingerprints are consulted first, false-positive signatures before blockpage
ones (Censored Planet's documented order), so a CDN challenge page is never
mistaken for a blockpage; the one exception is a national or ISP blockpage
fingerprint confirmed for the probe's own country, which is specific evidence
where some false-positive signatures are single common words.  A page received
over verified HTTPS cannot have been replaced on path, whatever it looks like.

Each rule's condition is one function below, registered under its id and tried
in the rule table's order: fingerprints, a redirect to a non-routable address,
failed transactions against their control, then the final response (unfollowed
redirect, verified HTTPS, no usable control, comparison with the control).
A redirect hop that is neither failed nor final is judged by the fingerprint
rules alone, and only a blockpage is reported there.
"""

from __future__ import annotations

from typing import Any

from netvigil.analysis.downstream import Downstream
from netvigil.analysis.http_compare import matches_control
from netvigil.analysis.observations import hostname_of
from netvigil.model.addresses import is_bogon
from netvigil.analysis.rules import Conditions, Finding, Hop, found, lazy
from netvigil.failures import Failure, is_eof, is_reset, is_timeout
from netvigil.model.fingerprint import FingerprintMatch
from netvigil.model.observation import HTTPObservation
from netvigil.model.verdict import Technique, Verdict

_SITE_FAULTS = frozenset({Failure.HTTP_INVALID_REDIRECT_LOCATION_HOST})
_REDIRECT_HOP_RULES = frozenset({"http.false_positive_fingerprint", "http.blockpage_fingerprint"})


def http_verdicts(rows: tuple[HTTPObservation, ...], downstream: Downstream) -> list[Verdict]:
    verdicts = []
    for row in rows:
        case, at = HTTPCase(row, downstream.probe_cc), Hop(row.hostname, row.depth)
        if row.failure or row.is_final:
            verdicts.append(HTTP.judge(case, at))
            continue
        hop = HTTP.decide(case, at, among=_REDIRECT_HOP_RULES)  # e.g. a Location to a national blocking site
        if hop is not None and hop.rule.startswith("http.blockpage_fingerprint@"):
            verdicts.append(hop)
    return verdicts


class HTTPCase:
    """One transaction of the redirect chain with its control, as the HTTP rules see it."""

    def __init__(self, row: HTTPObservation, probe_cc: str) -> None:
        self.row = row
        self.probe_cc = probe_cc
        self.failed = bool(row.failure)
        self.ctrl = row.ctrl
        if self.failed:
            self.ev: dict[str, Any] = dict(url=row.url, failure=row.failure, status_code=row.status_code,
                                           control_failure=(self.ctrl.failure if self.ctrl else None)
                                           or row.control_failure)
        elif row.is_final:
            self.ev = dict(url=row.url, status_code=row.status_code, body_length=row.body_length)
        else:  # a redirect hop
            self.ev = dict(url=row.url, status_code=row.status_code, location=row.location)
        self.fingerprint = None if self.failed else _speaking_match(row.fingerprints, probe_cc)
        # The helper fetched this URL and reported no failure of its own.
        self.control_usable = row.control_failure is None and self.ctrl is not None and self.ctrl.failure is None

    @lazy
    def comparison(self) -> tuple[bool, dict[str, Any]]:
        """Whether the response matches the helper's, and the checks that say so."""
        return matches_control(self.row)

    def fingerprint_evidence(self) -> dict[str, Any]:
        m = self.fingerprint
        assert m is not None  # asked only once a fingerprint matched
        return dict(fingerprint=m.fingerprint_id, fingerprint_source=m.source, fingerprint_scope=m.scope,
                    fingerprint_location=m.location, fingerprint_countries=list(m.countries) or None, **self.ev)


def _speaking_match(matches: tuple[FingerprintMatch, ...], probe_cc: str) -> FingerprintMatch | None:
    """The match that speaks for the response, in Censored Planet's order (false positives
    first), except that a national or ISP blockpage confirmed for this country, which is
    specific evidence, outranks false-positive signatures that are single words ("redirect")."""
    if not matches:
        return None
    false_positives = [m for m in matches if m.false_positive]
    confirming = [m for m in matches if m.confirms_blocking(probe_cc)]
    specific = [m for m in confirming if m.scope in ("nat", "isp") and probe_cc in m.countries]
    return (specific or false_positives or confirming or list(matches))[0]


HTTP: Conditions[HTTPCase] = Conditions("http.")


@HTTP.condition("http.false_positive_fingerprint")
def _false_positive_fingerprint(c: HTTPCase) -> Finding | None:
    m = c.fingerprint
    return found(Technique.OK, **c.fingerprint_evidence()) if m is not None and m.false_positive else None


@HTTP.condition("http.blockpage_fingerprint")
def _blockpage_fingerprint(c: HTTPCase) -> Finding | None:
    m = c.fingerprint
    if m is None or not m.confirms_blocking(c.probe_cc):
        return None
    return found(Technique.HTTP_BLOCKPAGE, **c.fingerprint_evidence())


@HTTP.condition("http.redirect_to_bogon")
def _redirect_to_bogon(c: HTTPCase) -> Finding | None:
    location = c.row.location
    if not location or not is_bogon(hostname_of(location)):
        return None
    return found(Technique.HTTP_BLOCKPAGE, location=location, **c.ev)


# A failed transaction.

@HTTP.condition("http.invalid_redirect")
def _invalid_redirect(c: HTTPCase) -> Finding | None:
    if not c.failed or c.row.failure not in _SITE_FAULTS:
        return None
    return found(Technique.DOWN, location=c.row.location, **c.ev)


@HTTP.condition("http.failure_no_control")
def _failure_no_control(c: HTTPCase) -> Finding | None:
    if not c.failed or (c.row.control_failure is None and c.ctrl is not None):
        return None
    return found(_technique(c.row.failure), **c.ev)


@HTTP.condition("http.failure_control_failed")
def _failure_control_failed(c: HTTPCase) -> Finding | None:
    return found(Technique.DOWN, **c.ev) if c.failed and c.ctrl and c.ctrl.failure is not None else None


@HTTP.condition("http.throttled")
def _throttled(c: HTTPCase) -> Finding | None:
    if not c.failed or not is_timeout(c.row.failure) or c.row.status_code is None or c.ctrl is None:
        return None
    return found(Technique.THROTTLING, control_body_length=c.ctrl.body_length, **c.ev)


@HTTP.condition("http.failure_control_ok")
def _failure_control_ok(c: HTTPCase) -> Finding | None:
    return found(_technique(c.row.failure), **c.ev) if c.failed else None


# The final response (or, above, a redirect hop).

@HTTP.condition("http.redirect_not_followed")
def _redirect_not_followed(c: HTTPCase) -> Finding | None:
    status, location = c.row.status_code, c.row.location
    if status is None or not 300 <= status < 400 or not location:
        return None
    return found(Technique.UNKNOWN, location=location, **c.ev)


@HTTP.condition("http.https_verified")
def _https_verified(c: HTTPCase) -> Finding | None:
    return found(Technique.OK, **c.ev) if c.row.scheme == "https" else None


@HTTP.condition("http.blockpage_fingerprint_unconfirmed")
def _blockpage_fingerprint_unconfirmed(c: HTTPCase) -> Finding | None:
    """A weak fingerprint (another country's, or a vague word) and nothing to compare with."""
    if c.fingerprint is None or c.control_usable:
        return None
    return found(Technique.HTTP_BLOCKPAGE, **c.fingerprint_evidence())


@HTTP.condition("http.control_failed_probe_ok")
def _control_failed_probe_ok(c: HTTPCase) -> Finding | None:
    if c.ctrl is None or c.ctrl.failure is None or c.row.control_failure is not None:
        return None
    return found(Technique.OK, control_failure=c.ctrl.failure, **c.ev)


@HTTP.condition("http.no_control")
def _no_control(c: HTTPCase) -> Finding | None:
    return None if c.control_usable else found(Technique.OK, control_failure=c.row.control_failure, **c.ev)


@HTTP.condition("http.matches_control")
def _matches_control(c: HTTPCase) -> Finding | None:
    same, checks = c.comparison
    return found(Technique.OK, url=c.row.url, **checks) if same else None


@HTTP.condition("http.diff")
def _diff(c: HTTPCase) -> Finding:
    _, checks = c.comparison
    weak = c.fingerprint.fingerprint_id if c.fingerprint is not None else None
    return found(Technique.HTTP_DIFF, url=c.row.url, fingerprint=weak, **checks)


def _technique(failure: str | None) -> Technique:
    failure = failure or ""
    if is_reset(failure):
        return Technique.HTTP_RESET
    if is_timeout(failure):
        return Technique.HTTP_TIMEOUT
    if is_eof(failure):
        return Technique.HTTP_EOF
    return Technique.HTTP_FAILURE
