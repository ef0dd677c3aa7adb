"""Invariants of the rule table: every rule is documented, unique and used."""

from __future__ import annotations

import pathlib
import re

from netvigil.analysis.rules import RULES

SOURCES = "".join(p.read_text() for p in (pathlib.Path(__file__).parents[2] / "src/netvigil/analysis").glob("*.py")
                  if p.name != "rules.py")


def test_rule_ids_are_unique():
    ids = [r.rule_id for r in RULES]
    assert len(ids) == len(set(ids))


def test_every_rule_has_meaning_and_sane_confidence():
    for r in RULES:
        assert len(r.meaning) > 20, r.rule_id
        assert 0.0 <= r.confidence <= 1.0, r.rule_id
        assert r.rule_id.startswith(r.layer.value + "."), r.rule_id


def test_every_rule_is_referenced_by_the_analysis_and_vice_versa():
    used = set(re.findall(r'rule\("([a-z0-9_.]+)"\)', SOURCES))
    used |= {m for a, b in re.findall(r'"((?:tls)\.[a-z_]+)" if [^"]+ else "((?:tls)\.[a-z_]+)"', SOURCES) for m in (a, b)}
    defined = {r.rule_id for r in RULES}
    assert used <= defined, used - defined
    assert defined <= used, defined - used


def test_rules_without_control_or_fingerprint_never_claim_blocking_strongly():
    for r in RULES:
        if "no_control" in r.rule_id or "no_reference" in r.rule_id:
            assert r.outcome.value != "blocked" and r.confidence <= 0.6, r.rule_id
