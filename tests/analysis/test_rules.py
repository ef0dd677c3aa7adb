"""Invariants of the rule table: every rule is documented, unique and used."""

from __future__ import annotations

from netvigil.analysis.dns_rules import DNS
from netvigil.analysis.endpoint_rules import TCP, TLS
from netvigil.analysis.http_rules import HTTP
from netvigil.analysis.rules import RULES


def test_rule_ids_are_unique():
    ids = [r.rule_id for r in RULES]
    assert len(ids) == len(set(ids))


def test_every_rule_has_meaning_and_sane_confidence():
    for r in RULES:
        assert len(r.meaning) > 20, r.rule_id
        assert 0.0 <= r.confidence <= 1.0, r.rule_id
        assert r.rule_id.startswith(r.layer.value + "."), r.rule_id


def test_every_rule_is_referenced_by_the_analysis_and_vice_versa():
    """Each rule but the summary's fallback has exactly one condition, tried in the table's order."""
    registered = [rule_id for layer in (DNS, TCP, TLS, HTTP) for rule_id in layer.rule_ids]
    assert registered == [r.rule_id for r in RULES if r.rule_id != "web.insufficient"]


def test_rules_without_control_or_fingerprint_never_claim_blocking_strongly():
    for r in RULES:
        if "no_control" in r.rule_id or "no_reference" in r.rule_id:
            assert r.outcome.value != "blocked" and r.confidence <= 0.6, r.rule_id
