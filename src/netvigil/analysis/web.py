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
from netvigil.model.web_connectivity import ControlStep, parse_web_connectivity


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


def observation_rows(obs: Observations) -> list[dict[str, Any]]:
    """Flat rows for the observations table: one per DNS answer, endpoint, HTTP transaction."""
    rows: list[dict[str, Any]] = []
    for i, d in enumerate(obs.dns):
        rows.append(dict(kind="dns", idx=i, hostname=d.hostname, depth=d.depth, ip=d.answer, port=None,
                         failure=d.failure, detail=dict(
                             engine=d.engine, resolver=d.resolver, query_type=d.query_type,
                             answer_asn=d.answer_asn, answer_org=d.answer_org, is_bogon=d.is_bogon,
                             in_reference=d.in_reference, asn_in_reference=d.asn_in_reference,
                             org_in_reference=d.org_in_reference, in_probe_network=d.in_probe_network,
                             tls_consistent=d.tls_consistent,
                             fingerprint=d.fingerprint.fingerprint_id if d.fingerprint else None,
                             reference_failure=d.reference_failure,
                             reference_addrs=list(d.reference_addrs),
                             reference_names=list(d.reference_names) or None)))
    for i, e in enumerate(obs.endpoints):
        rows.append(dict(kind="endpoint", idx=i, hostname=e.hostname, depth=e.depth, ip=e.ip, port=e.port,
                         failure=e.tcp_failure or e.tls_failure, detail=dict(
                             tcp_success=e.tcp_success, tcp_failure=e.tcp_failure,
                             tls_measured=e.tls_measured, tls_failure=e.tls_failure,
                             tls_server_name=e.tls_server_name,
                             control_tcp=_step(e.ctrl_tcp), control_tls=_step(e.ctrl_tls),
                             address_expected=e.address_expected)))
    for i, h in enumerate(obs.http):
        rows.append(dict(kind="http", idx=i, hostname=h.hostname, depth=h.depth, ip=None, port=None,
                         failure=h.failure, detail=dict(
                             url=h.url, is_final=h.is_final, status_code=h.status_code,
                             body_length=h.body_length, body_is_truncated=h.body_is_truncated,
                             title=h.title[:300], location=h.location,
                             fingerprints=[m.fingerprint_id for m in h.fingerprints],
                             control_status_code=h.ctrl.status_code if h.ctrl else None,
                             control_body_length=h.ctrl.body_length if h.ctrl else None,
                             control_failure=(h.ctrl.failure if h.ctrl else None) or h.control_failure)))
    return rows


def _step(step: ControlStep | None) -> dict[str, Any] | None:
    return None if step is None else {"success": step.success, "failure": step.failure}
