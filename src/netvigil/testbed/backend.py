"""What a testbed backend provides: a network up, how to reach it, and teardown.

A backend brings a scenario's network up when entered and removes every trace
of it when left, however it is left (success, exception, timeout, Ctrl-C).
While up, it tells a client how to measure through it: :meth:`endpoints` per
vantage point and :meth:`url` per site.  Loopback mode
(:class:`~netvigil.testbed.loopback.LoopbackTestbed`) is one backend; a
namespace backend implements the same protocol and the runner does not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

from netvigil.testbed.scenario import Site


@dataclass(frozen=True, slots=True)
class ClientEndpoints:
    """Where one client (vantage point) sends its traffic: the ProbeConfig fields of the contract."""

    client: str
    resolver: str  # "udp://HOST:PORT": the censored resolver this client sees
    socks5: str  # "HOST:PORT": the censoring middle every TCP connection goes through
    ca_file: str  # PEM bundle of the testbed CA
    test_helper: str | None  # "http://HOST:PORT" of the helper, when one runs


class Backend(Protocol):
    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None: ...

    def endpoints(self, client: str) -> ClientEndpoints: ...

    def url(self, site: Site) -> str: ...
