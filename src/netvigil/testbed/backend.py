"""What a testbed backend provides: a network up, how to reach it, and teardown.

A backend brings a scenario's network up when entered and removes every trace
of it when left, however it is left (success, exception, timeout, Ctrl-C).
While up, it tells a client how to measure through it: :meth:`endpoints` per
vantage point and :meth:`url` per site, and it runs the probe where that
client is (:meth:`measure`): in this process for loopback mode
(:class:`~netvigil.testbed.loopback.testbed.LoopbackTestbed`), in the client's network
namespace for namespace mode (:class:`~netvigil.testbed.netns.testbed.NamespaceTestbed`).
The runner is the same for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self

from netvigil.probe.config import ProbeConfig
from netvigil.testbed.scenarios.scenario import Site


@dataclass(frozen=True, slots=True)
class ClientEndpoints:
    """Where one client (vantage point) sends its traffic: the ProbeConfig fields of the contract."""

    client: str
    resolver: str  # "udp://HOST:PORT": the censored resolver this client sees
    socks5: str | None  # "HOST:PORT" of the censoring middle (loopback); None: the censor is in-path
    ca_file: str  # PEM bundle of the testbed CA
    test_helper: str | None  # "http://HOST:PORT" of the helper, when one runs


class UnavailableMode(ValueError):
    """A backend that does not exist, or cannot run here (namespace mode without root)."""


class Backend(Protocol):
    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None: ...

    def endpoints(self, client: str) -> ClientEndpoints: ...

    def url(self, site: Site) -> str: ...

    async def measure(self, client: str, url: str, config: ProbeConfig) -> dict[str, Any]:
        """One web_connectivity measurement of ``url`` from where ``client`` is."""
        ...
