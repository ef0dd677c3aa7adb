"""Loopback mode: a scenario's network in this process, on 127.0.0.0/8, without root.

Entering a :class:`LoopbackTestbed` brings up, as the probe/testbed contract
says (docs/design/probe-testbed-contract.md):

* per client, a censored DNS server (UDP and TCP) and a censoring SOCKS5
  middle, both on 127.0.0.1 with free ports;
* a clean DNS server holding the true records, used by the helper;
* the origin servers of sites and hosts on 127.0.0.10 and up, with
  certificates from the run's testbed CA (its PEM file: :attr:`ca_file`);
* the test helper (``netvigil.probe.helper_server.start_helper``) with the
  clean resolver and the testbed CA, when ``helper`` is true.  The helper
  reaches the simulated internet as probes do, through a SOCKS5 middle, but an
  uncensored one (see :mod:`netvigil.testbed.addressing` for why: nothing is
  ever dialled outside loopback).

Leaving it, however (normal exit, exception, timeout, cancellation by
Ctrl-C), closes every listening socket, cancels every task of the testbed and
deletes its temporary folder (keys and certificates).  Nothing is global: two
testbeds can run side by side.
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from netvigil.probe.config import ProbeConfig
from netvigil.probe.helper_server import start_helper
from netvigil.probe.net import Net
from netvigil.probe.tls import client_context
from netvigil.probe.web_connectivity import measure
from netvigil.testbed.addressing import HELPER_EGRESS, PROBE_EGRESS, SERVICE_ADDRESS, AddressPlan, Ports
from netvigil.testbed.aio import Supervisor
from netvigil.testbed.backend import ClientEndpoints
from netvigil.testbed.censor import StreamPolicy
from netvigil.testbed.dns_censor import DnsServer
from netvigil.testbed.loopback.middle import Middle
from netvigil.testbed.origin import start_origins
from netvigil.testbed.pki import TestbedPKI
from netvigil.testbed.policy import dns_policy, stream_policy
from netvigil.testbed.scenarios.scenario import Client, Scenario, Site

TEMP_PREFIX = "netvigil-testbed-"
HELPER_CLIENT = "helper"


class LoopbackTestbed:
    """A scenario's network on loopback, as an async context manager (entered once)."""

    def __init__(self, scenario: Scenario, *, helper: bool = True) -> None:
        self.scenario = scenario
        self.plan = AddressPlan(scenario)
        self._want_helper = helper
        self._stack = AsyncExitStack()
        self._endpoints: dict[str, ClientEndpoints] = {}
        self.folder: Path | None = None
        self.ca_file: Path | None = None
        self.ports: Ports | None = None
        self.clean_dns: DnsServer | None = None
        self.helper_url: str | None = None

    async def __aenter__(self) -> Self:
        if self.folder is not None:
            raise RuntimeError("a LoopbackTestbed is entered once; make a new one")
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self._stack.aclose()

    async def _start(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
        self._stack.callback(shutil.rmtree, folder)
        self.folder = folder
        supervisor = Supervisor(f"testbed {self.scenario.name}")
        self._stack.push_async_callback(supervisor.close)
        pki = TestbedPKI(folder)
        self.ca_file = pki.ca_file
        self.ports = await start_origins(self.scenario, self.plan, pki, supervisor)
        self.clean_dns = await DnsServer(dns_policy(self.scenario, self.plan, None), supervisor).start(
            SERVICE_ADDRESS)
        if self._want_helper:
            clean = await Middle(Client(HELPER_CLIENT), StreamPolicy(), self.plan, supervisor,
                                 egress=HELPER_EGRESS, inside=False).start(SERVICE_ADDRESS)
            self.helper_url = await self._start_helper(clean)
        for client in self.scenario.clients:
            censored = dns_policy(self.scenario, self.plan, client)
            dns = await DnsServer(censored, supervisor).start(SERVICE_ADDRESS)
            middle = await Middle(client, stream_policy(self.scenario, self.plan, pki, client), self.plan,
                                  supervisor, egress=PROBE_EGRESS, inside=True).start(SERVICE_ADDRESS)
            self._endpoints[client.name] = ClientEndpoints(
                client=client.name, resolver=dns.url, socks5=middle.endpoint, ca_file=str(pki.ca_file),
                test_helper=self.helper_url)

    async def _start_helper(self, clean: Middle) -> str:
        assert self.clean_dns is not None and self.ca_file is not None
        net = Net(udp_resolver=(self.clean_dns.address, self.clean_dns.port), use_system_resolver=False,
                  socks5=(clean.address, clean.port), tls_context=client_context(str(self.ca_file)))
        helper = await start_helper(host=SERVICE_ADDRESS, port=0, resolver=self.clean_dns.url,
                                    ca_file=str(self.ca_file), net=net, allow_private_targets=True)
        self._stack.push_async_callback(helper.close)
        host, _, port = helper.url.removeprefix("http://").rpartition(":")
        self.plan.add_service(host, int(port))
        return helper.url

    def endpoints(self, client: str) -> ClientEndpoints:
        return self._endpoints[client]

    def url(self, site: Site) -> str:
        assert self.ports is not None, "the testbed is not up"
        return self.ports.url(site.url)

    async def measure(self, client: str, url: str, config: ProbeConfig) -> dict[str, Any]:
        """The probe runs in this process: ``config`` already routes it through ``client``'s middle."""
        return await measure(url, config)
