"""Measurement -> observations -> verdicts for web_connectivity (pure).

``analyze_measurement`` is the single entry point used by the store, the CLI and
the evaluation.  The summary is the verdict that explains the measurement: the
first interference along the connection (earliest redirect hop, then DNS before
TCP before TLS before HTTP); failing that, tampering short of blocking
(``tampered``); failing that, a ``down`` verdict; failing that, the final page's
``ok``.  Verdicts that are mere consequences of an earlier blocked
layer at the same hop are dropped, so a spoofed DNS answer is not reported a
second time as a TCP failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netvigil.analysis.asn import AsnLookup
from netvigil.analysis.dns_rules import dns_verdicts
from netvigil.analysis.downstream import Downstream
from netvigil.analysis.endpoint_rules import endpoint_verdicts
from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.analysis.http_rules import http_verdicts
from netvigil.analysis.nettests import analyze_nettest
from netvigil.analysis.observations import build_observations
from netvigil.analysis.rules import Hop, rule
from netvigil.model.errors import BadRecord
from netvigil.model.measurement import Measurement
from netvigil.model.observation import Observations
from netvigil.model.test_names import ANALYSED_TEST_NAMES
from netvigil.model.verdict import LAYER_ORDER, Layer, Outcome, Technique, Verdict
from netvigil.model.web_connectivity import parse_web_connectivity


@dataclass(frozen=True, slots=True)
class Analysis:
    uid: str
    observations: Observations | None
    verdicts: tuple[Verdict, ...]
    summary: Verdict


def analyze_measurement(m: Measurement, fingerprints: FingerprintDB, asn: AsnLookup | None = None) -> Analysis:
    """Explain one measurement.  Raises BadRecord when its test keys are malformed.

    ``asn`` (an IP-to-ASN database) completes the networks the measurement does not name."""
    judged = analyze_nettest(m, fingerprints)  # tests other than web_connectivity (analysis/nettests.py)
    if judged is not None:
        return Analysis(m.uid, None, judged.verdicts, judged.summary)
    if m.test_name not in ANALYSED_TEST_NAMES:
        return Analysis(m.uid, None, (), _insufficient(f"test {m.test_name} is stored but not analysed"))
    tk = m.test_keys
    if tk is None:
        return Analysis(m.uid, None, (), _insufficient("the measurement has no test_keys"))
    if not m.input:
        raise BadRecord("web_connectivity measurement without an input URL")
    obs = build_observations(m.input, parse_web_connectivity(tk), fingerprints, asn=asn, probe_asn=m.probe_asn)
    verdicts = judge(obs, m.probe_cc)
    return Analysis(m.uid, obs, verdicts, summarize(verdicts, obs))


def judge(obs: Observations, probe_cc: str) -> tuple[Verdict, ...]:
    downstream = Downstream(obs, probe_cc)
    found = dns_verdicts(obs.dns, downstream)
    found += endpoint_verdicts(obs.endpoints, downstream)
    found += http_verdicts(obs.http, downstream)
    ordered = sorted(found, key=lambda v: (v.depth, LAYER_ORDER[v.layer]))
    return tuple(_drop_consequences(ordered))


def _drop_consequences(verdicts: list[Verdict]) -> list[Verdict]:
    """Keep the first interference and what it does not explain.

    After a blocked verdict, failures at later hops are consequences (the chain was
    diverted, e.g. to a blockpage site), and so are later layers at a hop whose DNS
    was blocked.  Verdicts of success are always kept, and a v0.5 side check (a
    handshake the fetch did not use) never diverts the chain.
    """
    first: Verdict | None = None
    kept = []
    for v in verdicts:
        if first is not None and v.outcome is not Outcome.OK:
            if v.depth > first.depth or (v.depth == first.depth and first.layer is Layer.DNS):
                continue
        if first is None and v.outcome is Outcome.BLOCKED and not v.evidence.get("side_check"):
            first = v
        kept.append(v)
    return kept


def summarize(verdicts: tuple[Verdict, ...], obs: Observations) -> Verdict:
    """Pick the verdict that explains the measurement (see the module docstring).

    Side checks (v0.5 handshakes the web fetch did not use) count only when no
    verdict on the fetch's own path decides.
    """
    on_path = [v for v in verdicts if not v.evidence.get("side_check")]
    side = [v for v in verdicts if v.evidence.get("side_check")]
    for outcome in (Outcome.BLOCKED, Outcome.TAMPERED, Outcome.DOWN):
        for v in on_path + side:
            if v.outcome is outcome:
                return v
    http_ok = [v for v in verdicts if v.layer.value == "http" and v.outcome is Outcome.OK]
    if http_ok:
        return http_ok[-1]
    unknown = [v for v in verdicts if v.outcome is Outcome.UNKNOWN and v.confidence > 0]
    if unknown:
        return max(unknown, key=lambda v: v.confidence)
    return _insufficient("no layer produced evidence", input=obs.input)


def _insufficient(reason: str, **evidence: Any) -> Verdict:
    return rule("web.insufficient").verdict(Technique.UNKNOWN, at=Hop("", 0), reason=reason, **evidence)
