"""What a fingerprint match says, as a record the observations can carry.

Kept in ``model`` so observations do not depend on the matcher; the matcher in
``analysis.fingerprints`` produces these.
"""

from __future__ import annotations

from dataclasses import dataclass

FALSE_POSITIVE_SCOPE = "fp"
_VAGUE_SCOPE = "vbw"
_ANY_COUNTRY_SCOPES = frozenset({"isp", "nat"})
_CURATED_OONI_PREFIXES = ("ooni.", "cl.")
_SUSPECTED_PREFIX = "cl.susp_"


@dataclass(frozen=True, slots=True)
class FingerprintMatch:
    """A fingerprint that matched: enough to explain and score a verdict."""

    fingerprint_id: str
    source: str
    scope: str
    location: str
    countries: tuple[str, ...]
    false_positive: bool

    @property
    def specific(self) -> bool:
        """Whether this is a blockpage fingerprint that no false-positive signature may overrule.

        Specific means it names who blocks or was curated as a blockpage by
        people who checked it: ISP- or country-scoped (scope ``isp``/``nat``, or
        expected countries listed), OONI's and Citizen Lab's own (``ooni.*``,
        ``cl.*``) and netvigil's.  Vague blocking words (scope ``vbw``) never
        are, nor are Citizen Lab's *suspected* blocks (``cl.susp_*``, blank
        pages that Censored Planet lists as false positives), nor false
        positives.  Censored Planet's product, corporate and unknown
        signatures are not: their README ranks their false positives above
        them, and netvigil keeps that order.
        """
        suspected = self.fingerprint_id.startswith(_SUSPECTED_PREFIX)
        if self.false_positive or self.scope == _VAGUE_SCOPE or suspected:
            return False
        return (
            self.scope in _ANY_COUNTRY_SCOPES
            or bool(self.countries)
            or self.source == "netvigil"
            or (self.source == "ooni" and self.fingerprint_id.startswith(_CURATED_OONI_PREFIXES))
        )

    def confirms_blocking(self, probe_cc: str) -> bool:
        """Whether this match alone confirms blocking for a probe in ``probe_cc``.

        A false-positive match never confirms, and neither does a vague
        blocking word (scope ``vbw``, which includes Censored Planet's
        ``f_gen`` signatures): such words appear on ordinary error pages.
        Any other match confirms when the probe's country is expected, when
        no country is listed, when the scope is national or ISP-level (OONI
        fastpath's rule: those blockpages are unambiguous wherever seen), or
        when it is a Censored Planet blockpage signature (product, national,
        ISP, corporate blockpages, curated as unique to blocking).
        """
        if self.false_positive or self.scope == _VAGUE_SCOPE:
            return False
        return (
            not self.countries
            or probe_cc.upper() in self.countries
            or self.scope in _ANY_COUNTRY_SCOPES
            or self.source == "censoredplanet"
        )
