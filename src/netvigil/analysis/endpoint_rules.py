"""TCP and TLS verdicts, one per failing endpoint (ip:port) of the redirect chain.

Endpoints whose address DNS already showed to be unexpected are skipped: the
DNS verdict explains them.  Successful steps produce no verdict of their own;
their success is evidence for the DNS and HTTP rules.  Each rule's condition is
one function below, registered under its id and tried in the rule table's order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from netvigil.analysis.downstream import Downstream
from netvigil.analysis.rules import Conditions, Finding, Hop, found
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
            verdicts.append(TCP.judge(EndpointCase(row, downstream, tls=False), Hop(row.hostname, row.depth)))
        elif row.tls_measured and row.tls_failure:
            verdicts.append(TLS.judge(EndpointCase(row, downstream, tls=True), Hop(row.hostname, row.depth)))
    return verdicts


class EndpointCase:
    """A failed step (TCP connect, or TLS handshake after a connect) to one endpoint, with
    the helper's result for the same step and what happened downstream."""

    def __init__(self, row: EndpointObservation, downstream: Downstream, *, tls: bool) -> None:
        self.row = row
        self.downstream = downstream
        self.ctrl = row.ctrl_tls if tls else row.ctrl_tcp
        self.failure = (row.tls_failure if tls else row.tcp_failure) or Failure.UNKNOWN_FAILURE.value
        self.technique = _tls_technique(self.failure) if tls else _tcp_technique(self.failure)
        self.ev: dict[str, Any] = dict(
            endpoint=row.endpoint, **({"server_name": row.tls_server_name} if tls else {}), failure=self.failure,
            side_check=None if row.on_path else True, control_failure=self.ctrl.failure if self.ctrl else None,
            control_success=self.ctrl.success if self.ctrl else None)


TCP: Conditions[EndpointCase] = Conditions("tcp.")
TLS: Conditions[EndpointCase] = Conditions("tls.")


# Shared conditions: TCP and TLS failures are judged against their control alike.

def _control_failed(c: EndpointCase) -> Finding | None:
    return found(Technique.DOWN, **c.ev) if c.ctrl is not None and not c.ctrl.success else None


def _but_site_loaded(c: EndpointCase) -> Finding | None:
    return found(c.technique, **c.ev) if c.downstream.final_ok else None


def _control_ok(c: EndpointCase) -> Finding | None:
    return found(c.technique, **c.ev) if c.ctrl is not None else None


def _control_fetched(c: EndpointCase) -> Finding | None:
    return found(c.technique, **c.ev) if c.downstream.control_fetched else None


def _no_control(c: EndpointCase) -> Finding:
    return found(c.technique, **c.ev)


@TCP.condition("tcp.ipv6_unavailable")
def _ipv6_unavailable(c: EndpointCase) -> Finding | None:
    if not (c.row.is_ipv6 and c.failure in _UNREACHABLE):
        return None
    return found(Technique.TCP_UNREACHABLE, **c.ev)


TCP.condition("tcp.failure_control_failed")(_control_failed)
TCP.condition("tcp.failure_but_site_loaded")(_but_site_loaded)
TCP.condition("tcp.failure_control_ok")(_control_ok)
TCP.condition("tcp.failure_control_fetched")(_control_fetched)
TCP.condition("tcp.failure_no_control")(_no_control)

TLS.condition("tls.failure_control_failed")(_control_failed)
TLS.condition("tls.failure_but_site_loaded")(_but_site_loaded)


@TLS.condition("tls.certificate_control_ok")
def _certificate_control_ok(c: EndpointCase) -> Finding | None:
    return _control_ok(c) if c.technique is Technique.TLS_MITM else None


TLS.condition("tls.failure_control_ok")(_control_ok)
TLS.condition("tls.failure_control_fetched")(_control_fetched)
TLS.condition("tls.failure_no_control")(_no_control)


def _tcp_technique(failure: str) -> Technique:
    if is_timeout(failure):
        return Technique.TCP_TIMEOUT
    if is_refused(failure) or is_reset(failure):
        return Technique.TCP_REFUSED
    return Technique.TCP_UNREACHABLE


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
