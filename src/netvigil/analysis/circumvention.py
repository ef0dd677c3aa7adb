"""Circumvention tests -> verdicts (pure): tor targets, tunnel bootstraps, meek.

Tor relays and bridges go down for everyone, so one failed target says little;
the measurement is ``blocked`` only when most targets failed the way censors make
them fail while the network otherwise worked (OONI's fastpath uses the same
"more than half" threshold).  A bootstrap is read by how far it got: vanilla Tor
stuck below 10% never reached a relay, stuck in the handshake (10-25%) met DPI;
later stalls and Snowflake's failures are ``unknown``, since a slow network or
an unavailable broker explains them as well.
"""

from __future__ import annotations

from netvigil.analysis.nettest_rules import ruling
from netvigil.analysis.rules import Hop
from netvigil.analysis.step_chain import Judgement, failure_technique, is_probe_side, no_data
from netvigil.failures import is_timeout
from netvigil.model.circumvention import BootstrapKeys, MeekKeys, TorKeys, TorTarget
from netvigil.model.verdict import Layer, Outcome, Technique, Verdict

_MEEK_REPLY = "just a happy little web server"
_ANYWHERE = Hop("", 0)


def analyze_tor(keys: TorKeys) -> Judgement:
    if not keys.targets:
        return no_data("the tor test recorded no targets")
    verdicts = tuple(_target_verdict(t) for t in keys.targets)
    ran = [t for t in keys.targets if t.ran]
    failed = [t for t in ran if t.failure is not None and not is_probe_side(t.failure)]
    reached = [t for t in ran if t.failure is None]
    ev = dict(targets=len(keys.targets), ran=len(ran), reached=len(reached), failed=len(failed),
              by_protocol=_by_protocol(keys.targets), list_format=keys.list_format or None)
    network_ok = bool(reached) or any(s.success for t in ran for s in t.steps.tcp_connect)
    if reached and len(reached) >= len(failed):
        summary = ruling("tor.targets_reachable").verdict(Technique.OK, at=_ANYWHERE, **ev)
    elif failed and network_ok and len(failed) > (len(failed) + len(reached)) / 2:
        summary = ruling("tor.targets_blocked").verdict(_target_technique(failed[0]), at=_ANYWHERE, **ev)
    else:
        summary = ruling("tor.targets_unjudged").verdict(Technique.UNKNOWN, at=_ANYWHERE, **ev)
    return Judgement(verdicts, summary)


def _target_verdict(t: TorTarget) -> Verdict:
    at = Hop(t.address.rpartition(":")[0].strip("[]") or t.address, 0)
    ev = dict(endpoint=t.address, target_protocol=t.protocol, target_name=t.name or None, failure=t.failure,
              failed_operations={k: v for k, v in t.summary.items() if v} or None)
    if not t.ran:
        return ruling("tor.targets_unjudged").verdict(Technique.UNKNOWN, at=at, reason="target not run", **ev)
    if t.failure is None:
        return ruling("tor.targets_reachable").verdict(Technique.OK, at=at, **ev)
    # One target failing is no evidence on its own (relays go down): per-target failures stay unknown.
    v = ruling("tor.targets_unjudged").verdict(_target_technique(t), at=at, **ev)
    return Verdict(layer=_target_layer(t), technique=v.technique, outcome=v.outcome, confidence=v.confidence,
                   rule=v.rule, hostname=v.hostname, depth=0, evidence=v.evidence)


def _target_layer(t: TorTarget) -> Layer:
    if t.summary.get("connect") or any(not s.success for s in t.steps.tcp_connect) and not any(
            s.success for s in t.steps.tcp_connect):
        return Layer.TCP
    if t.summary.get("handshake"):
        return Layer.TLS
    return Layer.TCP if t.protocol in ("or_port", "or_port_dirauth") else Layer.HTTP


def _target_technique(t: TorTarget) -> Technique:
    return failure_technique(_target_layer(t), t.failure or "")


def _by_protocol(targets: tuple[TorTarget, ...]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for t in targets:
        row = out.setdefault(t.protocol or "unknown", {"total": 0, "reached": 0})
        row["total"] += 1
        row["reached"] += t.ran and t.failure is None
    return out


def analyze_bootstrap(keys: BootstrapKeys) -> Judgement:
    """vanilla_tor, torsf, psiphon, openvpn: how far the tunnel got."""
    if not keys.has_data:
        return no_data(f"{keys.test_name} recorded no bootstrap result")
    ev = dict(test=keys.test_name, failure=keys.failure, progress=keys.progress, progress_tag=keys.progress_tag,
              bootstrap_time=keys.bootstrap_time, timeout=keys.timeout, transport=keys.transport,
              rendezvous_method=keys.rendezvous_method)
    summary = _bootstrap_verdict(keys, ev)
    return Judgement((summary,), summary)


def _bootstrap_verdict(keys: BootstrapKeys, ev: dict[str, str | float | None]) -> Verdict:
    bootstrapped = (keys.bootstrap_time or 0) > 0 or keys.progress == 100
    if keys.failure is None and keys.success is not False and (bootstrapped or keys.test_name != "psiphon"):
        return ruling("tunnel.bootstrapped").verdict(Technique.OK, at=_ANYWHERE, **ev)
    if bootstrapped:
        return ruling("tunnel.failed_after_bootstrap").verdict(Technique.UNKNOWN, at=_ANYWHERE, **ev)
    if keys.failure is None or is_probe_side(keys.failure):  # e.g. a Twisted-era log with no failure recorded
        return ruling("tunnel.failure_unexplained").verdict(Technique.UNKNOWN, at=_ANYWHERE, **ev)
    if keys.progress == 0:
        return ruling("tunnel.never_started").verdict(Technique.TUNNEL_BOOTSTRAP, at=_ANYWHERE, **ev)
    if keys.test_name == "torsf":
        return ruling("tunnel.snowflake_failed").verdict(Technique.TUNNEL_BOOTSTRAP, at=_ANYWHERE, **ev)
    if keys.test_name == "psiphon":
        rule_id = "tunnel.psiphon_bootstrap_failed" if is_timeout(keys.failure) else "tunnel.failure_unexplained"
        return ruling(rule_id).verdict(Technique.TUNNEL_BOOTSTRAP, at=_ANYWHERE, **ev)
    if keys.progress is None:
        return ruling("tunnel.failure_unexplained").verdict(Technique.TUNNEL_BOOTSTRAP, at=_ANYWHERE, **ev)
    if keys.progress < 10:
        return ruling("tunnel.no_relay_reached").verdict(Technique.TUNNEL_BOOTSTRAP, at=_ANYWHERE, **ev)
    if keys.progress <= 25:
        return ruling("tunnel.stalled_in_handshake").verdict(Technique.TUNNEL_BOOTSTRAP, at=_ANYWHERE, **ev)
    return ruling("tunnel.stalled_late").verdict(Technique.TUNNEL_BOOTSTRAP, at=_ANYWHERE, **ev)


def analyze_meek(keys: MeekKeys) -> Judgement:
    """meek_fronted_requests_test: did the CDN forward the fronted request to the meek server?"""
    if not keys.requests:
        return no_data("meek recorded no request", success=keys.success)
    verdicts = []
    for r in keys.requests:
        at = Hop(r.front_host or r.url, 0)
        ev = dict(endpoint=r.url, front_host=r.front_host, status_code=r.status_code, failure=r.failure,
                  body_start=r.body_start[:80] or None)
        if r.failure is None and r.status_code == 200 and _MEEK_REPLY in r.body_start:
            verdicts.append(ruling("meek.fronted_ok").verdict(Technique.OK, at=at, **ev))
        elif r.failure is None and r.status_code is not None:
            verdicts.append(ruling("meek.front_refused").verdict(Technique.DOWN, at=at, **ev))
        else:
            v = ruling("steps.failed_nothing_worked").verdict(
                failure_technique(Layer.HTTP, r.failure or ""), at=at, **ev)
            verdicts.append(Verdict(Layer.HTTP, v.technique, v.outcome, v.confidence, v.rule, v.hostname, 0,
                                    v.evidence))
    worst = next((v for o in (Outcome.DOWN, Outcome.UNKNOWN) for v in verdicts if v.outcome is o), verdicts[0])
    return Judgement(tuple(verdicts), worst)
