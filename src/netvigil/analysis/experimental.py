"""dnscheck, stunreachability and urlgetter -> verdicts (pure).

urlgetter's steps are judged like any endpoint (``step_chain``).  dnscheck asks
whether a resolver (DoH, DoT, UDP) answers: one endpoint answering is enough for
``ok``; all failing is judged per endpoint, the first blocked one explaining the
measurement.  stunreachability's single exchange is blocked only when the STUN
server's name resolved (the probe was online) and the binding request then went
unanswered.
"""

from __future__ import annotations

from typing import Any

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.analysis.nettest_rules import ruling
from netvigil.analysis.rules import Hop
from netvigil.analysis.step_chain import (
    Judgement,
    failure_technique,
    is_probe_side,
    judge_endpoints,
    network_worked,
    no_data,
    summarize_endpoints,
)
from netvigil.model.experimental import BrowserWebKeys, DNSCheckKeys, StunKeys
from netvigil.model.steps import Steps
from netvigil.model.verdict import Layer, Outcome, Technique, Verdict


def analyze_browser_web(keys: BrowserWebKeys) -> Judgement:
    if keys.result is None:
        return no_data("browser_web recorded no result")
    rule_id = "browser.loaded" if keys.result == "ok" else "browser.load_failed"
    v = ruling(rule_id).verdict(Technique.OK if keys.result == "ok" else Technique.UNKNOWN, at=Hop("", 0),
                                result=keys.result, load_time_ms=keys.load_time_ms, browser=keys.browser_name)
    return Judgement((v,), v)


def analyze_urlgetter(steps: Steps, *, probe_status: dict[str, Any] | None = None, fingerprints: FingerprintDB | None = None,
                      probe_cc: str = "ZZ") -> Judgement:
    if steps.empty:
        if steps.failure is not None:
            v = ruling("urlgetter.input_unusable").verdict(
                Technique.UNKNOWN, at=Hop("", 0), failure=steps.failure, failed_operation=steps.failed_operation)
            return Judgement((v,), v)
        return no_data("urlgetter recorded no network step")
    verdicts = judge_endpoints(steps, fingerprints=fingerprints, probe_cc=probe_cc)
    return Judgement(tuple(verdicts), summarize_endpoints(verdicts, probe_status=probe_status))


def analyze_dnscheck(keys: DNSCheckKeys) -> Judgement:
    at = Hop(keys.domain, 0)
    if keys.bootstrap_failure is not None and not keys.lookups:
        v = ruling("dnscheck.bootstrap_failed").verdict(failure_technique(Layer.DNS, keys.bootstrap_failure), at=at,
                                                        failure=keys.bootstrap_failure)
        return Judgement((v,), v)
    if not keys.lookups:
        return no_data("dnscheck recorded no lookup", domain=keys.domain)
    verdicts: list[Verdict] = []
    answered = []
    online = (keys.bootstrap is not None and network_worked(keys.bootstrap)) or any(
        network_worked(s) for s in keys.lookups.values())
    for endpoint, steps in sorted(keys.lookups.items()):
        found = judge_endpoints(steps, network_ok=online) if not steps.empty else []
        if steps.failure is None and any(a for q in steps.queries for a in q.answers):
            answered.append(endpoint)
        verdicts.extend(_tagged(v, endpoint) for v in found)
    if answered:
        v = ruling("dnscheck.resolver_works").verdict(Technique.OK, at=at, endpoints=len(keys.lookups),
                                                      answered=answered)
        return Judgement(tuple(verdicts), v)
    return Judgement(tuple(verdicts), summarize_endpoints(verdicts) if verdicts
                     else no_data("no dnscheck lookup recorded a step", domain=keys.domain).summary)


def _tagged(v: Verdict, endpoint: str) -> Verdict:
    return Verdict(v.layer, v.technique, v.outcome, v.confidence, v.rule, v.hostname, v.depth,
                   {**v.evidence, "resolver_endpoint": endpoint})


def analyze_stun(keys: StunKeys) -> Judgement:
    host = (keys.endpoint or "").rpartition(":")[0]
    at = Hop(host, 0)
    ev = dict(endpoint=keys.endpoint, failure=keys.failure)
    if keys.failure is None:
        if keys.endpoint is None and keys.steps.empty:
            return no_data("stunreachability recorded neither an endpoint nor a step")
        v = ruling("stun.binding_ok").verdict(Technique.OK, at=at, **ev)
        return Judgement((v,), v)
    dns = [v for v in judge_endpoints(keys.steps) if v.layer is Layer.DNS and v.outcome is not Outcome.OK]
    if dns:
        return Judgement(tuple(dns), dns[0])
    resolved = any(q.answers for q in keys.steps.queries)
    if resolved and not is_probe_side(keys.failure):
        v = ruling("stun.no_response").verdict(failure_technique(Layer.UDP, keys.failure), at=at, **ev)
    else:
        v = ruling("stun.failure_unexplained").verdict(failure_technique(Layer.UDP, keys.failure), at=at, **ev)
    return Judgement((v,), v)
