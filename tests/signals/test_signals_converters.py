"""Verdict counts and probe rounds given as plain records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from netvigil.detect.records import SignalKind
from netvigil.signals.converters import ReachabilityRound, VerdictCount, reachability_points, verdict_points

T = datetime(2024, 1, 1, tzinfo=UTC)


def test_verdict_counts_become_weighted_anomaly_rates():
    points = verdict_points([VerdictCount(cc="UG", asn="20294", domain="x.com", time=T, blocked=3, down=1, ok=4,
                                          unknown=9),
                             VerdictCount(cc="UG", asn="AS20294", domain="x.com", time=T, blocked=0, down=0, ok=0,
                                          unknown=2)])
    [p] = points
    assert (p.entity, p.value, p.weight, p.kind) == ("UG/AS20294/x.com", 3 / 8, 8.0, SignalKind.ANOMALY_RATE)


def test_rounds_become_answered_shares_weighted_by_probes():
    [p] = reachability_points([ReachabilityRound(entity="IR/AS58224", time=T, sent=15, answered=6),
                               ReachabilityRound(entity="IR/AS58224", time=T, sent=0, answered=0)])
    assert (p.value, p.weight, p.kind) == (0.4, 15.0, SignalKind.REACHABILITY)


def test_impossible_rounds_are_refused():
    with pytest.raises(ValueError, match="answered"):
        reachability_points([ReachabilityRound(entity="x", time=T, sent=2, answered=3)])
