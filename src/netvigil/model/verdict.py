"""Explained verdicts: what interfered, where, how sure, and which rule said so.

A verdict is the unit everything downstream (store, API, reports, detection)
consumes.  ``rule`` is ``<rule_id>@<version>`` so a verdict can always be traced
to the exact rule text that produced it, and ``evidence`` holds the facts that
rule relied on (which answer, which control value, which fingerprint).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Layer(StrEnum):
    DNS = "dns"
    TCP = "tcp"
    TLS = "tls"
    HTTP = "http"
    WEB = "web"  # the measurement as a whole (summary)
    UDP = "udp"  # datagram exchanges (STUN)


class Outcome(StrEnum):
    BLOCKED = "blocked"  # interference by the network
    DOWN = "down"  # fails for the control too: the site, not a censor
    OK = "ok"
    UNKNOWN = "unknown"  # not enough evidence either way
    TAMPERED = "tampered"  # the network interfered (e.g. forged DNS, a middlebox) but the content still arrived


class Technique(StrEnum):
    DNS_NXDOMAIN = "dns.nxdomain"
    DNS_BOGON = "dns.bogon"
    DNS_SPOOF = "dns.spoof"
    DNS_TIMEOUT = "dns.timeout"
    DNS_REFUSED = "dns.refused"
    DNS_SERVFAIL = "dns.servfail"
    DNS_FAILURE = "dns.failure"
    TCP_TIMEOUT = "tcp.timeout"
    TCP_REFUSED = "tcp.refused"
    TCP_UNREACHABLE = "tcp.unreachable"
    TLS_RESET = "tls.reset"
    TLS_TIMEOUT = "tls.timeout"
    TLS_EOF = "tls.eof"
    TLS_MITM = "tls.mitm"
    TLS_FAILURE = "tls.failure"
    HTTP_RESET = "http.reset"
    HTTP_TIMEOUT = "http.timeout"
    HTTP_EOF = "http.eof"
    HTTP_BLOCKPAGE = "http.blockpage"
    HTTP_DIFF = "http.diff"
    HTTP_FAILURE = "http.failure"
    THROTTLING = "throttling"
    DOWN = "down"
    OK = "ok"
    UNKNOWN = "unknown"
    # Tests other than web_connectivity (analysis/nettests.py).
    HTTP_MIDDLEBOX = "http.middlebox"  # a middlebox altered or answered the probe's HTTP traffic
    TUNNEL_BOOTSTRAP = "tunnel.bootstrap"  # a circumvention tunnel (Tor, Snowflake, Psiphon) did not bootstrap
    UDP_TIMEOUT = "udp.timeout"
    UDP_FAILURE = "udp.failure"


# The order in which a connection is built: earlier layers explain later failures.
LAYER_ORDER = {Layer.DNS: 0, Layer.TCP: 1, Layer.TLS: 2, Layer.HTTP: 3, Layer.WEB: 4, Layer.UDP: 1}


@dataclass(frozen=True, slots=True)
class Verdict:
    layer: Layer
    technique: Technique
    outcome: Outcome
    confidence: float
    rule: str
    hostname: str = ""
    depth: int = 0
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape of ``netvigil verdicts`` (other tools read it)."""
        return {
            "layer": self.layer.value,
            "technique": self.technique.value,
            "outcome": self.outcome.value,
            "confidence": round(self.confidence, 3),
            "rule": self.rule,
            "hostname": self.hostname,
            "depth": self.depth,
            "evidence": self.evidence,
        }
