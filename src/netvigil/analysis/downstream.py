"""What happened after DNS: answers to the questions DNS and TCP rules ask.

An unexpected DNS answer is only called spoofed when something downstream shows
it (the address failed, or served other content, while the control worked);
likewise an endpoint failure is discounted when the page loaded anyway.
"""

from __future__ import annotations

from netvigil.analysis.http_compare import matches_control
from netvigil.failures import Failure, is_tls_certificate
from netvigil.model.observation import HTTPObservation, Observations
from netvigil.model.web_connectivity import ControlStep


class Downstream:
    def __init__(self, obs: Observations, probe_cc: str) -> None:
        self.obs = obs
        self.probe_cc = probe_cc
        final = obs.http[-1] if obs.http else None
        self.final = final
        self.control_fetched = obs.control_fetched
        self.final_ok = bool(
            final is not None and final.failure is None and final.status_code is not None
            and not (300 <= final.status_code < 400 and final.location)
            and (final.scheme == "https" or final.ctrl is None or matches_control(final)[0])
            and not any(not m.false_positive for m in final.fingerprints)
        )
        self.ipv6_unavailable = _no_ipv6_route(obs)

    def failure_through(self, ips: list[str], depth: int) -> str | None:
        """A symptom on the answered addresses at this hop, if the control saw none.

        IPv6 connects of a probe without IPv6 connectivity are no symptom: they
        fail for every IPv6 destination, whatever DNS answered.
        """
        wanted = set(ips)
        for e in self.obs.endpoints:
            if e.ip not in wanted or e.depth != depth:
                continue
            if e.is_ipv6 and self.ipv6_unavailable:
                continue
            if not e.tcp_success and (_succeeded(e.ctrl_tcp) or self.control_fetched):
                return f"tcp {e.tcp_failure} on {e.endpoint}"
            if e.tls_failure and (is_tls_certificate(e.tls_failure) or _succeeded(e.ctrl_tls)
                                  or self.control_fetched):
                return f"tls {e.tls_failure} on {e.endpoint}"
        for h in self.obs.http:
            if h.depth != depth or not self.control_fetched:
                continue
            if h.failure:
                return f"http {h.failure} fetching {h.url}"
            if h.is_final and not matches_control(h)[0]:
                return f"http response differs from the control ({h.status_code}, {h.body_length} bytes)"
        return None

    def served_through(self, depth: int) -> HTTPObservation | None:
        """The response fetched at this hop: a blockpage if one came back, else the first response."""
        responses = [h for h in self.obs.http if h.depth == depth and h.status_code is not None]
        pages = [h for h in responses if any(not m.false_positive for m in h.fingerprints)]
        found = pages or responses
        return found[0] if found else None

    def content_matches_control(self, depth: int) -> bool:
        return self.final is not None and self.final.depth >= depth and self.final_ok and self.control_fetched


def _succeeded(step: ControlStep | None) -> bool:
    return step is not None and step.success


_NO_ROUTE = frozenset({Failure.NETWORK_UNREACHABLE, Failure.HOST_UNREACHABLE})


def _no_ipv6_route(obs: Observations) -> bool:
    """The probe has no IPv6 connectivity: IPv6 connects were tried, none succeeded, and
    the kernel reported no route for at least one (ENETUNREACH / EHOSTUNREACH)."""
    v6 = [e for e in obs.endpoints if e.is_ipv6]
    return (bool(v6) and not any(e.tcp_success for e in v6)
            and any(e.tcp_failure in _NO_ROUTE for e in v6))
