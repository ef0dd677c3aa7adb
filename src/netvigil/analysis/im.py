"""Instant messaging (whatsapp, telegram, facebook_messenger, signal) -> verdicts (pure).

Every endpoint the test tried is judged along its steps (``step_chain``); the
summary is the earliest-layer ``blocked`` endpoint if there is one, otherwise
``ok`` when every endpoint was reached (or the unreached ones failed for the
probe's own reasons), otherwise the most confident ``unknown``.  The probe's own
status keys go into the summary's evidence as ``probe_status``, never into the
decision: they were wrong for years (WhatsApp's web page stopped redirecting in
late 2022; Signal's pinned CA, probe#2627).
"""

from __future__ import annotations

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.analysis.nettest_rules import ruling
from netvigil.analysis.rules import Hop
from netvigil.analysis.step_chain import Judgement, judge_endpoints, no_data, summarize_endpoints
from netvigil.model.im import IMKeys
from netvigil.model.verdict import Technique, Verdict

FACEBOOK_ASN = 32934
_FACEBOOK_SUFFIXES = (".facebook.com", ".fbcdn.net", ".facebook.net", ".messenger.com")


def analyze_im(keys: IMKeys, *, fingerprints: FingerprintDB | None = None, probe_cc: str = "ZZ") -> Judgement:
    if keys.steps.empty:
        return no_data(f"{keys.test_name} recorded no network step", probe_status=keys.probe_status or None)
    verdicts = judge_endpoints(keys.steps, fingerprints=fingerprints, probe_cc=probe_cc)
    if keys.test_name == "facebook_messenger":
        verdicts = _facebook_dns(keys, verdicts)
    return Judgement(tuple(verdicts), summarize_endpoints(verdicts, probe_status=keys.probe_status or None))


def _facebook_dns(keys: IMKeys, verdicts: list[Verdict]) -> list[Verdict]:
    """Facebook's own names must resolve inside AS32934 (ts-019's DNS consistency check)."""
    connected = {t.ip: t.success for t in keys.steps.tcp_connect}
    extra = []
    for q in keys.steps.queries:
        host = q.hostname.lower()
        if not host.endswith(_FACEBOOK_SUFFIXES) or "cdn" in host:  # CDN names may be ISP caches
            continue
        outside = [a for a in q.answers if a.asn is not None and a.asn not in (0, FACEBOOK_ASN)]
        if not outside or len(outside) < len([a for a in q.answers if a.asn is not None]):
            continue
        reached = any(connected.get(a.value) for a in outside)
        rule_id = "im.dns_outside_service_asn_reached" if reached else "im.dns_outside_service_asn"
        extra.append(ruling(rule_id).verdict(
            Technique.DNS_SPOOF, at=Hop(host, 0), endpoint=f"dns:{host}", step="dns",
            answers=sorted(a.value for a in outside), answer_asns=sorted({a.asn for a in outside})))
    return extra + verdicts
