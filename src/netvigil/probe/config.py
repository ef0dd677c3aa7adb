"""Probe configuration (the probe/testbed contract) and address parsing.

The fields up to ``probe_network_name`` are the contract with the testbed
(docs/design/probe-testbed-contract.md); fields after it are optional extras
with defaults, so code written against the contract keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeConfig:
    resolver: str | None = None        # "udp://HOST:PORT": the probe's primary resolver when set
    use_system_resolver: bool = True   # False in the testbed: getaddrinfo cannot be redirected
    socks5: str | None = None          # "HOST:PORT": every TCP connection of the probe goes through it
    ca_file: str | None = None         # extra trusted CA bundle (PEM), e.g. the testbed CA
    test_helper: str | None = None     # "http://HOST:PORT" of a ts-017 helper (netvigil helper)
    connect_timeout: float = 10.0
    tls_timeout: float = 10.0
    http_timeout: float = 15.0         # whole response, headers + body
    dns_timeout: float = 5.0
    max_body_bytes: int = 1 << 22
    max_redirects: int = 10
    probe_cc: str = "ZZ"
    probe_asn: str = "AS0"
    probe_network_name: str | None = None
    # Extras beyond the contract.
    doh_url: str | None = None         # DNS-over-HTTPS lookups (ts-017 E004), off unless set
    probe_ip: str | None = None        # the probe's public IP, scrubbed from every measurement
    control_timeout: float = 60.0      # the whole test-helper exchange
    report_id: str = ""                # set by the runner: one id per run of a list


class ConfigError(ValueError):
    """A configuration value that cannot be used (raised before any measurement)."""


def parse_hostport(value: str, *, default_port: int | None = None) -> tuple[str, int]:
    """``"HOST:PORT"`` / ``"[v6]:PORT"`` -> ``(host, port)``; brackets are removed."""
    host, sep, port = value.rpartition(":")
    if value.startswith("[") and "]" in value:
        host, _, rest = value[1:].partition("]")
        sep, port = (":", rest[1:]) if rest.startswith(":") else ("", "")
    elif not sep or ":" in host:
        host, port = value, ""
    if not port:
        if default_port is None:
            raise ConfigError(f"{value!r} has no port")
        return host, default_port
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{value!r} has an invalid port")
    return host, int(port)


def parse_udp_resolver(value: str) -> tuple[str, int]:
    """``"udp://HOST:PORT"`` (port 53 by default) -> ``(host, port)``."""
    scheme, sep, rest = value.partition("://")
    if not sep or scheme != "udp" or not rest:
        raise ConfigError(f"resolver {value!r} is not udp://HOST:PORT")
    return parse_hostport(rest.rstrip("/"), default_port=53)


def join_hostport(host: str, port: int) -> str:
    """The inverse of :func:`parse_hostport`, as OONI writes endpoints."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
