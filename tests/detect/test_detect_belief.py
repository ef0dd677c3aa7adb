"""The Trinocular-style belief detector on probing rounds."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from detect_helpers import ORIGIN, make_matrix

from netvigil.detect.base import detect_matrix
from netvigil.detect.belief import BeliefDetector, BeliefParams
from netvigil.detect.records import Level, SignalKind

ROUND = timedelta(minutes=11)  # Trinocular's round
BELIEF = BeliefDetector(BeliefParams())


def rounds(shares: list[float], probes: float = 15.0):
    x = np.array(shares, dtype=float)
    return make_matrix(x, kind=SignalKind.REACHABILITY, step=ROUND, weights=np.where(np.isnan(x), 0, probes)[None])


def test_a_block_that_stops_answering_is_down_within_a_round():
    [d] = detect_matrix(rounds([0.6] * 20 + [0.0] * 5 + [0.6] * 20), BELIEF)
    assert (d.start, d.end) == (ORIGIN + 20 * ROUND, ORIGIN + 25 * ROUND)
    assert d.alerted_at == ORIGIN + 21 * ROUND
    assert d.level is Level.CRITICAL and d.confidence > 0.99


def test_silence_is_not_down():
    assert detect_matrix(rounds([0.6] * 20 + [np.nan] * 50 + [0.6] * 20), BELIEF) == []


def test_a_lossy_round_is_not_down():
    assert detect_matrix(rounds([0.6] * 20 + [0.2] + [0.6] * 20), BELIEF) == []


def test_blocks_that_barely_answer_are_not_judged():
    assert detect_matrix(rounds([0.05] * 20 + [0.0] * 10), BELIEF) == []
