"""Invariants of the non-web rule table: documented, unique, used, and modest without a control."""

from __future__ import annotations

import pathlib
import re

from netvigil.analysis.nettest_rules import NETTEST_RULES
from netvigil.analysis.nettests import NETTEST_ANALYSERS
from netvigil.analysis.rules import RULES
from netvigil.model.test_names import KNOWN_TEST_NAMES

ANALYSIS = pathlib.Path(__file__).parents[2] / "src/netvigil/analysis"
FAMILY_MODULES = ("step_chain", "im", "circumvention", "middlebox", "experimental", "performance", "nettests")
SOURCES = "".join((ANALYSIS / f"{name}.py").read_text() for name in FAMILY_MODULES)


def test_rule_ids_are_unique_and_apart_from_the_web_rules():
    ids = [r.rule_id for r in NETTEST_RULES]
    assert len(ids) == len(set(ids))
    assert not set(ids) & {r.rule_id for r in RULES}


def test_every_rule_has_a_meaning_and_a_sane_confidence():
    for r in NETTEST_RULES:
        assert len(r.meaning) > 30, r.rule_id
        assert 0.0 <= r.confidence <= 1.0, r.rule_id


def test_every_rule_is_used_and_every_use_is_defined():
    used = set(re.findall(r'ruling\("([a-z0-9_.]+)"\)', SOURCES))
    used |= set(re.findall(r'rule_id = "([a-z0-9_.]+)" if', SOURCES)) | set(re.findall(r'else "([a-z0-9_.]+)"', SOURCES))
    defined = {r.rule_id for r in NETTEST_RULES}
    assert used <= defined, used - defined
    assert defined <= used, defined - used


def test_no_rule_without_a_control_claims_blocking_strongly():
    """None of these tests has a control: blocked never above 0.7 (a confirmed fingerprint aside), and never
    for performance tests."""
    for r in NETTEST_RULES:
        if r.outcome.value == "blocked":
            assert r.confidence <= 0.7 or r.rule_id.endswith("_fingerprint"), r.rule_id
            assert not r.rule_id.startswith(("performance.", "middlebox.", "browser.")), r.rule_id


def test_middlebox_findings_are_tampering_not_blocking():
    found = {r.outcome.value for r in NETTEST_RULES if r.rule_id.startswith("middlebox.")}
    assert found == {"tampered", "ok", "unknown"}


def test_every_routed_test_name_is_a_known_one():
    assert set(NETTEST_ANALYSERS) <= KNOWN_TEST_NAMES
    assert "web_connectivity" not in NETTEST_ANALYSERS
