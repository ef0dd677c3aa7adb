"""The likely kind of an incident: each piece of evidence, and the verdicts they add up to (issue 11)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from netvigil.detect.evaluate import TruthEvent, incident_scope, per_class, score
from netvigil.detect.incidents import RECOVERY, merge_incidents
from netvigil.detect.kind import classify
from netvigil.detect.records import (
    GOVERNMENT_SHUTDOWN,
    KINDS,
    POWER_OR_NATURAL_OUTAGE,
    UNDETERMINED,
    Detection,
    Incident,
    Level,
    SignalKind,
    incident_from_dict,
)
from netvigil.store.signals_db import open_signals_store

T0 = datetime(2021, 3, 1, 18, 30, tzinfo=UTC)
H = timedelta(hours=1)
FIVE = timedelta(minutes=5)


def det(entity: str, start: timedelta = timedelta(0), length: timedelta | None = 8 * H, *,
        kind: SignalKind = SignalKind.ACTIVE_PROBING, step: timedelta = FIVE) -> Detection:
    return Detection(entity=entity, source=kind.value, kind=kind, method="ratio-median", start=T0 + start,
                     end=None if length is None else T0 + start + length, step=step, level=Level.CRITICAL,
                     area=100.0, confidence=0.9, alerted_at=T0 + start + step)


def judge(*detections: Detection, watched: dict[str, set[SignalKind]] | None = None) -> list[Incident]:
    return classify(merge_incidents(detections, recovery=RECOVERY), watched, until=T0 + 30 * 24 * H)


def evidence(incident: Incident) -> str:
    return " | ".join(incident.kind_evidence)


# name -> (detections, watched signals, expected kind of the first incident, words in its evidence)
SCENARIOS = {
    "BGP withdrawn with probing, on the half hour, 8 h": (
        [det("MM"), det("MM", kind=SignalKind.BGP)], None, GOVERNMENT_SHUTDOWN, ["BGP-visible prefixes", "round hour"]),
    "probing down, BGP watched and up, off the hour, 1 h": (
        [det("VE/Miranda", start=14 * FIVE, length=H)], {"VE/Miranda": {SignalKind.ACTIVE_PROBING, SignalKind.BGP}},
        POWER_OR_NATURAL_OUTAGE, ["BGP routes stayed announced", "off the hour", "shorter than the median outage"]),
    "hourly bins say nothing about the hour": (
        [det("IR/Qom", length=3 * H, step=H)], None, UNDETERMINED, []),
    "still ongoing after days counts as long": (
        [det("IR", length=None)], None, GOVERNMENT_SHUTDOWN, ["Still ongoing after", "National reach"]),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_kind_scenarios(name: str):
    detections, watched, expected, words = SCENARIOS[name]
    first = judge(*detections, watched=watched)[0]
    assert first.kind == expected
    assert first.kind in KINDS
    for word in words:
        assert word in evidence(first)
    assert (first.kind_score >= 1.0) == (expected == GOVERNMENT_SHUTDOWN)


def test_round_hours_weigh_less_on_coarser_bins():
    on_five = judge(det("XX/a"))[0]
    on_ten = judge(det("XX/a", step=timedelta(minutes=10)))[0]
    assert on_five.kind_score > on_ten.kind_score > 0
    # 85 % vs 40 % on exact times (Bischof et al. 2023), diluted by the bin: q = 5 / 30
    q = 1 / 6
    expected = math.log((0.848 + 0.152 * q) / (0.395 + 0.605 * q)) + 0.5  # + "longer than the median shutdown"
    assert on_five.kind_score == pytest.approx(expected)


def test_recurrence_at_the_same_time_of_day_is_a_curfew():
    nights = [det("MM/Yangon", start=n * 24 * H) for n in range(5)]
    found = judge(*nights)
    assert len(found) == 5
    assert all("Recurs at the same time of day" in evidence(i) for i in found)
    assert {i.kind for i in found} == {GOVERNMENT_SHUTDOWN}


def test_regions_switched_off_together_and_back_together():
    regions = [det(f"IR/R{r}", start=r * timedelta(minutes=2), length=6 * H) for r in range(5)]
    found = judge(*regions)
    assert all("Sharp simultaneous onset" in evidence(i) and "Simultaneous recovery" in evidence(i) for i in found)
    assert {i.kind for i in found} == {GOVERNMENT_SHUTDOWN}


def test_ragged_recovery_across_regions_looks_like_a_grid():
    regions = [det(f"NG/R{r}", start=r * timedelta(minutes=13), length=(3 + 2 * r) * H) for r in range(5)]
    watched = {f"NG/R{r}": {SignalKind.ACTIVE_PROBING, SignalKind.BGP} for r in range(5)}
    found = judge(*regions, watched=watched)
    assert all("Ragged recovery" in evidence(i) for i in found)
    assert GOVERNMENT_SHUTDOWN not in {i.kind for i in found}
    assert all("Seen in 1 of 2 signals" in evidence(i) for i in found)  # the fusion sentence


def test_kind_survives_jsonl_and_the_store(tmp_path):
    [incident] = judge(det("MM"), det("MM", kind=SignalKind.BGP))
    doc = incident.to_dict()
    assert doc["kind"] == GOVERNMENT_SHUTDOWN and doc["kind_evidence"] == list(incident.kind_evidence)
    back = incident_from_dict(doc)
    assert (back.kind, back.kind_evidence) == (incident.kind, incident.kind_evidence)
    with open_signals_store(tmp_path / "nv.duckdb") as store:
        store.replace_incidents([incident])
    with open_signals_store(tmp_path / "nv.duckdb") as store:
        [stored] = store.incidents()
    assert (stored.kind, stored.kind_evidence) == (incident.kind, incident.kind_evidence)
    assert stored.kind_score == pytest.approx(incident.kind_score)


def test_recall_and_false_alarms_per_class():
    truth = [TruthEvent(countries=("MM",), start=T0, end=T0 + 8 * H, scope="national", cause=GOVERNMENT_SHUTDOWN),
             TruthEvent(countries=("VE",), start=T0, end=T0 + H, scope="regional", cause=POWER_OR_NATURAL_OUTAGE),
             TruthEvent(countries=("SD",), start=T0, end=T0 + H, scope="network", cause="")]
    found = judge(det("MM"), det("MM", kind=SignalKind.BGP), det("VE/Miranda", length=H),
                  det("IR/Qom", start=48 * H, length=3 * H, step=H))
    scores = score(found, truth, since=T0 - 24 * H, until=T0 + 72 * H, countries={"MM", "VE", "SD", "IR"})
    by_name = {c.name: c for c in per_class(scores)}
    assert (by_name["scope=national"].matched, by_name["scope=national"].events) == (1, 1)
    assert (by_name["scope=network"].matched, by_name["scope=network"].events) == (0, 1)
    assert by_name["scope=regional"].false_alarms == 1  # IR/Qom matches no event
    assert by_name["cause=government_shutdown"].kind_agrees == 1
    assert by_name["cause=unknown"].events == 1
    assert by_name[f"cause={UNDETERMINED}"].false_alarms == 1


@pytest.mark.parametrize(("entity", "scope"), [("IR", "national"), ("IR/Tehran", "regional"),
                                                ("UG/AS20294", "network"), ("UG/AS20294/twitter.com", "network")])
def test_incident_scope(entity: str, scope: str):
    i = Incident(entities=(entity,), start=T0, end=None, level=Level.CRITICAL, severity=1.0, confidence=1.0,
                 signals=("s",), on_the_hour=True)
    assert incident_scope(i) == scope
