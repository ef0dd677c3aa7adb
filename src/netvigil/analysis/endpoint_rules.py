"""TCP and TLS verdicts, one per failing endpoint (ip:port) of the redirect chain.

Endpoints whose address DNS already showed to be unexpected are skipped: the
DNS verdict explains them.  Successful steps produce no verdict of their own;
their success is evidence for the DNS and HTTP rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from netvigil.analysis.downstream import Downstream
from netvigil.analysis.rules import Hop, rule
from netvigil.failures import (
    Failure,
    is_eof,
    is_refused,
    is_reset,
    is_timeout,
    is_tls_certificate,
)
from netvigil.model.observation import EndpointObservation
from netvigil.model.verdict import Technique, Verdict

_UNREACHABLE = frozenset({Failure.NETWORK_UNREACHABLE, Failure.HOST_UNREACHABLE})


def endpoint_verdicts(rows: Iterable[EndpointObservation], downstream: Downstream) -> list[Verdict]:
    verdicts = []
    for row in rows:
        if row.address_expected is False:
            continue
        if not row.tcp_success:
            verdicts.append(_tcp(row, downstream))
        elif row.tls_measured and row.tls_failure:
            verdicts.append(_tls(row, downstream))
    return verdicts


def _tcp(row: EndpointObservation, downstream: Downstream) -> Verdict:
    failure = row.tcp_failure or Failure.UNKNOWN_FAILURE.value
    where = Hop(row.hostname, row.depth)
    ev: dict[str, Any] = dict(endpoint=row.endpoint, failure=failure, side_check=None if row.on_path else True,
              control_failure=row.ctrl_tcp.failure if row.ctrl_tcp else None,
              control_success=row.ctrl_tcp.success if row.ctrl_tcp else None)
    if row.is_ipv6 and failure in _UNREACHABLE:
        return rule("tcp.ipv6_unavailable").verdict(Technique.TCP_UNREACHABLE, at=where, **ev)
    technique = _tcp_technique(failure)
    if row.ctrl_tcp is not None and not row.ctrl_tcp.success:
        return rule("tcp.failure_control_failed").verdict(Technique.DOWN, at=where, **ev)
    if downstream.final_ok:
        return rule("tcp.failure_but_site_loaded").verdict(technique, at=where, **ev)
    if row.ctrl_tcp is not None:
        return rule("tcp.failure_control_ok").verdict(technique, at=where, **ev)
    if downstream.control_fetched:
        return rule("tcp.failure_control_fetched").verdict(technique, at=where, **ev)
    return rule("tcp.failure_no_control").verdict(technique, at=where, **ev)


def _tcp_technique(failure: str) -> Technique:
    if is_timeout(failure):
        return Technique.TCP_TIMEOUT
    if is_refused(failure) or is_reset(failure):
        return Technique.TCP_REFUSED
    return Technique.TCP_UNREACHABLE


def _tls(row: EndpointObservation, downstream: Downstream) -> Verdict:
    failure = row.tls_failure or Failure.UNKNOWN_FAILURE.value
    where = Hop(row.hostname, row.depth)
    ev: dict[str, Any] = dict(endpoint=row.endpoint, server_name=row.tls_server_name, failure=failure,
              side_check=None if row.on_path else True, control_failure=row.ctrl_tls.failure if row.ctrl_tls else None,
              control_success=row.ctrl_tls.success if row.ctrl_tls else None)
    technique = _tls_technique(failure)
    if row.ctrl_tls is not None and not row.ctrl_tls.success:
        return rule("tls.failure_control_failed").verdict(Technique.DOWN, at=where, **ev)
    if downstream.final_ok:
        return rule("tls.failure_but_site_loaded").verdict(technique, at=where, **ev)
    if row.ctrl_tls is not None:
        rule_id = "tls.certificate_control_ok" if technique is Technique.TLS_MITM else "tls.failure_control_ok"
        return rule(rule_id).verdict(technique, at=where, **ev)
    if downstream.control_fetched:
        return rule("tls.failure_control_fetched").verdict(technique, at=where, **ev)
    return rule("tls.failure_no_control").verdict(technique, at=where, **ev)


def _tls_technique(failure: str) -> Technique:
    if is_tls_certificate(failure):
        return Technique.TLS_MITM
    if is_reset(failure):
        return Technique.TLS_RESET
    if is_timeout(failure):
        return Technique.TLS_TIMEOUT
    if is_eof(failure):
        return Technique.TLS_EOF
    return Technique.TLS_FAILURE
