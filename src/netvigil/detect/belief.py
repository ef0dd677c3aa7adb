"""Bayesian belief that a probed network is reachable, in the spirit of Trinocular.

Method (Quan, Heidemann, Pradkin, "Trinocular", SIGCOMM 2013; parameters of
IODA's implementation ``trinarkular``, research notes §1.5 and §2.1): each round
of probes updates the belief ``B = P(up)`` by Bayes' rule.  A probe to a block
that is up is answered with the block's availability ``A`` (the share of its
addresses that usually answer) less packet loss; a block that is down hardly ever
answers.  ``B > 0.9`` is up, ``B < 0.1`` down, anything between uncertain.

Input is a reachability matrix: ``values`` the share of the round's probes that
were answered, ``weights`` the probes sent.  A round with no probe (missing)
leaves the belief to drift towards uncertain, never to down: silence is not an
outage.  A detection is a stretch of rounds below "up" that reaches "down"; it
starts at the first round that was no longer up.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from netvigil.detect.grid import SeriesMeta
from netvigil.detect.records import Detection, Level
from netvigil.detect.runs import MISSING, Findings, Reporter, RunRules, RunState, RunStats, ongoing, track


@dataclass(frozen=True, slots=True, kw_only=True)
class BeliefParams:
    up: float = 0.9  # trinarkular BELIEF_UP_FRAC
    down: float = 0.1  # trinarkular BELIEF_DOWN_FRAC
    loss: float = 0.01  # trinarkular PACKET_LOSS_FREQUENCY ("taken from the paper")
    min_availability: float = 0.10  # trinarkular gives blocks with A(E(b)) < 0.10 no probing: not judged
    answer_when_down: float = 0.01  # netvigil: a down block answering is taken to be as rare as a lost probe
    change: float = 0.01  # netvigil: prior probability of a state change between rounds (keeps B revisable)
    availability_rate: float = 0.1  # netvigil: EWMA weight of a round's answered share in A, rounds believed up
    max_gap: int = 2  # netvigil: missing rounds bridged inside one outage


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class BeliefState:
    meta: SeriesMeta
    position: int
    belief: np.ndarray  # (E,) P(up)
    availability: np.ndarray  # (E,) A, NaN until a round was answered
    runs: RunState


@dataclass(frozen=True, slots=True)
class BeliefDetector:
    params: BeliefParams
    method: str = "belief"

    def initial(self, meta: SeriesMeta) -> BeliefState:
        n = len(meta.entities)
        return BeliefState(meta=meta, position=0, belief=np.full(n, 0.5), availability=np.full(n, np.nan),
                           runs=RunState())

    def run(self, state: BeliefState, values: np.ndarray, weights: np.ndarray) -> tuple[Findings, BeliefState]:
        belief, availability = state.belief.copy(), state.availability.copy()
        levels = np.full(values.shape, MISSING, np.int8)
        drops = np.zeros(values.shape)
        for j in range(values.shape[1]):
            levels[:, j] = self._round(belief, availability, values[:, j], weights[:, j])
            drops[:, j] = np.where(levels[:, j] > 0, 1.0 - belief, 0.0)
        found, runs = track(state.runs, self._reporter(state.meta), levels, drops, state.position)
        return found, replace(state, position=state.position + values.shape[1], belief=belief,
                              availability=availability, runs=runs)

    def ongoing(self, state: BeliefState) -> list[Detection]:
        return ongoing(state.runs, self._reporter(state.meta))

    def _round(self, belief: np.ndarray, availability: np.ndarray, share: np.ndarray,
               probes: np.ndarray) -> np.ndarray:
        """Update ``belief`` and ``availability`` in place for one round; return the round's levels."""
        p = self.params
        has = (probes > 0) & ~np.isnan(share)
        first = has & np.isnan(availability) & (share > 0)
        availability[first] = share[first]
        judged = has & (availability >= p.min_availability)
        belief[:] = belief * (1.0 - p.change) + (1.0 - belief) * p.change
        answered = np.where(judged, np.nan_to_num(share) * probes, 0.0)
        missed = np.where(judged, probes, 0.0) - answered
        q_up = np.clip(np.nan_to_num(availability) * (1.0 - p.loss), 1e-6, 1.0 - 1e-6)
        llr = answered * np.log(q_up / p.answer_when_down) + missed * np.log((1.0 - q_up) / (1.0 - p.answer_when_down))
        logit = np.log(belief / (1.0 - belief)) + llr
        belief[:] = 1.0 / (1.0 + np.exp(-np.clip(logit, -700.0, 700.0)))
        up = judged & (belief > p.up)
        rate = p.availability_rate
        availability[up] = (1.0 - rate) * availability[up] + rate * share[up]
        level = np.where(belief < p.down, Level.CRITICAL, np.where(belief < p.up, Level.WARNING, 0))
        return np.where(judged, level, MISSING)

    def _reporter(self, meta: SeriesMeta) -> Reporter:
        rules = RunRules(min_bins=1, min_level=Level.CRITICAL, max_gap=self.params.max_gap)
        return Reporter(meta=meta, method=self.method, rules=rules, confidence=_confidence)


def _confidence(stats: RunStats) -> float:
    """The belief the network was down at its most certain: 1 - min P(up)."""
    return float(min(1.0, max(0.0, stats.max_drop)))

