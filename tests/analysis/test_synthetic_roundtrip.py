"""Whatever interference a synthetic measurement was generated with, analysis recovers it."""

from __future__ import annotations

import pytest

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.analysis.web import analyze_measurement
from netvigil.model.measurement import measurement_from_dict
from netvigil.model.verdict import Outcome, Technique
from netvigil.testbed.synthetic import MIX, generate

GENERATED = list(generate(1500, seed=11, max_body=5_000))


@pytest.mark.parametrize("technique", [t for t, _ in MIX], ids=lambda t: t.value)
def test_technique_is_recovered(technique):
    cases = [g for g in GENERATED if g.technique is technique]
    assert cases, f"the generator produced no {technique.value}"
    for g in cases:
        summary = analyze_measurement(measurement_from_dict(g.measurement), FingerprintDB.empty()).summary
        assert summary.technique is technique, summary.to_dict()


def test_down_and_ok_are_never_blocked():
    for g in GENERATED:
        if g.technique in (Technique.DOWN, Technique.OK):
            summary = analyze_measurement(measurement_from_dict(g.measurement), FingerprintDB.empty()).summary
            assert summary.outcome is not Outcome.BLOCKED
