"""OONI's 50 labelled QA scenarios: netvigil's summary technique against ground truth.

The ground-truth table and the reasoning behind each entry live in
``netvigil.evaluation.ooni_qa``; the measurements are read from the shared data.
"""

from __future__ import annotations

import json

import pytest

from netvigil.analysis.web import analyze_measurement
from netvigil.evaluation.ooni_qa import EXPECTED, EXPECTED_DEPTH, without_interference
from netvigil.model.measurement import measurement_from_dict
from netvigil.model.verdict import Outcome
from netvigil.store.reference_data import load_default_fingerprints, shared_data_dir

GENERATED = shared_data_dir() / "ooni-probe-cli/internal/minipipeline/testdata/webconnectivity/generated"
pytestmark = pytest.mark.skipif(not GENERATED.is_dir(), reason="shared OONI QA data absent")


@pytest.fixture(scope="module")
def fingerprints():
    return load_default_fingerprints()


def _summary(name, fingerprints):
    raw = json.loads((GENERATED / name / "measurement.json").read_text())
    return analyze_measurement(measurement_from_dict(raw), fingerprints).summary


def test_every_scenario_directory_has_an_expectation():
    on_disk = {p.name for p in GENERATED.iterdir() if p.is_dir()}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_scenario_technique(name, fingerprints):
    summary = _summary(name, fingerprints)
    assert summary.technique is EXPECTED[name], summary.to_dict()
    if name in EXPECTED_DEPTH:
        assert summary.depth == EXPECTED_DEPTH[name]


@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if without_interference(n)))
def test_no_censorship_without_interference(name, fingerprints):
    assert _summary(name, fingerprints).outcome is not Outcome.BLOCKED


def test_agreement_at_least_48_of_50(fingerprints):
    agree = sum(_summary(n, fingerprints).technique is t for n, t in EXPECTED.items())
    assert agree >= 48


def test_cloudflare_challenge_is_a_recognised_false_positive(fingerprints):
    summary = _summary("cloudflareCAPTCHAWithHTTP", fingerprints)
    assert summary.rule.startswith("http.false_positive_fingerprint@")
    assert summary.evidence["fingerprint"]
