"""What the measurements of one run share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

import dns.resolver

from netvigil.probe.config import ProbeConfig, parse_udp_resolver
from netvigil.probe.envelope import new_report_id
from netvigil.probe.net import Net


@dataclass(slots=True)
class Session:
    """Network setup, start time and report id of a run, plus the probe's public
    addresses as they become known (configured, or seen by the helper) -- the one
    mutable part, so that every later measurement scrubs them too."""

    config: ProbeConfig
    net: Net
    test_start: datetime
    report_id: str
    resolver_ip: str
    public_ips: set[str] = field(default_factory=set)

    @classmethod
    def start(cls, config: ProbeConfig) -> Session:
        """Raises ConfigError for an unusable configuration."""
        now = datetime.now(UTC)
        return cls(
            config=config, net=Net.from_config(config), test_start=now,
            report_id=config.report_id or new_report_id(now, probe_cc=config.probe_cc,
                                                        probe_asn=config.probe_asn),
            resolver_ip=parse_udp_resolver(config.resolver)[0] if config.resolver else system_resolver_ip(),
            public_ips={config.probe_ip} if config.probe_ip else set(),
        )


@lru_cache(maxsize=1)
def system_resolver_ip() -> str:
    """The first nameserver of the system configuration ("" when there is none)."""
    try:
        nameservers = dns.resolver.Resolver(configure=True).nameservers
    except dns.resolver.NoResolverConfiguration:
        return ""
    return str(nameservers[0]) if nameservers else ""
