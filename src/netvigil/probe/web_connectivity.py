"""web_connectivity: one URL -> one df-000 measurement with ts-017 v0.5 test keys.

The redirect chain is measured hop by hop (:mod:`hop`); the test helper is asked
in parallel as soon as hop 0's addresses are known, with exactly those
addresses.  The result is scrubbed of the probe's public addresses last, after
the control has had its chance to tell us what they are.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from netvigil.probe import archival
from netvigil.probe.config import ProbeConfig
from netvigil.probe.control import ControlResult, ask_control, control_request
from netvigil.probe.envelope import envelope
from netvigil.probe.errors import unknown
from netvigil.probe.hop import Hop, fetch_chain
from netvigil.probe.scrub import Scrubber
from netvigil.probe.session import Session
from netvigil.probe.trace import Trace
from netvigil.probe.urls import BadURL, Target, parse_target


async def measure(url: str, config: ProbeConfig, *, session: Session | None = None) -> dict[str, Any]:
    """One OONI web_connectivity measurement (see docs/design/probe-testbed-contract.md).

    Network failures never raise: they are recorded.  ``session`` lets a runner
    share setup across URLs; without one, a single-measurement session is made.
    """
    session = session or Session.start(config)
    started, clock = datetime.now(UTC), time.monotonic()
    try:
        target = parse_target(url)
    except BadURL as exc:
        keys = _test_keys((), None, Trace(), session, Scrubber(), input_failure=unknown(str(exc)))
        return _finish(url, keys, session, started, clock)
    hops, control, trace = await _measure(target, session)
    if control is not None and control.client_ip:
        session.public_ips.add(control.client_ip)
    scrubber = Scrubber(session.public_ips)
    keys = _test_keys(hops, control, trace, session, scrubber)
    return scrubber.scrub(_finish(url, keys, session, started, clock))


async def _measure(target: Target, session: Session) -> tuple[tuple[Hop, ...], ControlResult | None, Trace]:
    config = session.config
    trace = Trace()
    tasks: list[asyncio.Task[ControlResult]] = []

    def start_control(addresses: tuple[str, ...]) -> None:
        if config.test_helper:
            tasks.append(asyncio.create_task(ask_control(
                config.test_helper, control_request(target, addresses), net=session.net,
                timeout=config.control_timeout)))

    try:
        hops = await fetch_chain(target, net=session.net, trace=trace, on_resolved=start_control)
        control = await tasks[0] if tasks else None
    finally:
        for task in tasks:
            task.cancel()
    return hops, control, trace


def _test_keys(hops: tuple[Hop, ...], control: ControlResult | None, trace: Trace, session: Session,
               scrubber: Scrubber, *, input_failure: str | None = None) -> dict[str, Any]:
    """ts-017 v0.5 keys; ``requests`` is time-reversed (the final response first)."""
    first = hops[0].resolution if hops else None
    keys: dict[str, Any] = {
        "agent": "redirect",
        "client_resolver": session.resolver_ip,
        "retries": None,
        "socksproxy": None,
        "network_events": [archival.network_event(e) for e in trace.events],
        "queries": [archival.dns_query(q) for h in hops if h.resolution for q in h.resolution.queries],
        "requests": [archival.http_transaction(h.request, scrubber) for h in reversed(hops) if h.request],
        "tcp_connect": [archival.tcp_connect(c.tcp) for h in hops for c in h.endpoints],
        "tls_handshakes": [archival.tls_handshake(c.tls) for h in hops for c in h.endpoints if c.tls],
        "x_control_request": control.request if control else None,
        "control": control.response if control else None,
        "control_failure": control.failure if control else None,
        "dns_experiment_failure": first.failure if first else None,
        "http_experiment_failure": hops[-1].failure if hops else input_failure,
    }
    if control is not None and control.dropped:
        keys["x_control_dropped"] = list(control.dropped)
    truncated = [{"hostname": h.target.host, "depth": h.depth, "measured": len(h.resolution.addresses),
                  "dropped": h.resolution.dropped} for h in hops if h.resolution and h.resolution.dropped]
    if truncated:  # the answer held more addresses than a measurement connects to (MAX_ADDRESSES)
        keys["x_addresses_truncated"] = truncated
    return keys


def _finish(url: str, keys: dict[str, Any], session: Session, started: datetime,
            clock: float) -> dict[str, Any]:
    config = session.config
    return envelope(
        url=url, test_keys=keys, measurement_start=started, test_start=session.test_start,
        runtime=time.monotonic() - clock, report_id=session.report_id, probe_cc=config.probe_cc,
        probe_asn=config.probe_asn, probe_network_name=config.probe_network_name,
        resolver_ip=session.resolver_ip, test_helper=config.test_helper)
