"""Namespace mode: a scenario's network in Linux network namespaces, as root.

Entering a :class:`NamespaceTestbed` builds the network of
:mod:`netvigil.testbed.netns.layout` (a namespace per client, a router that
censors, an internet namespace), starts the servers as processes inside their
namespaces (:mod:`netvigil.testbed.netns.service`), then loads the censor's
packet rules into the router (:mod:`netvigil.testbed.netns.rules`).  The
probe runs in the client's namespace (:mod:`netvigil.testbed.netns.probe`):
no SOCKS middle, no port in the URLs, real ports 80 and 443, and every
interference happens to its packets on the way.

Leaving it, however (normal exit, exception, timeout, Ctrl-C), stops every
process it started (by process id, SIGTERM then SIGKILL), then deletes every
namespace it created, which takes their veth links, addresses, routes,
iptables rules and qdiscs with them, then removes its temporary folder (keys,
certificates, logs).  Bringing up and tearing down are synchronous on purpose:
a cancellation cannot cut them in half.  Nothing is global: runs can share a
machine, each with its own names.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from netvigil.probe.config import ProbeConfig
from netvigil.testbed.backend import ClientEndpoints, UnavailableMode
from netvigil.testbed.addressing import AddressPlan
from netvigil.testbed.netns.commands import (
    CommandFailed,
    Service,
    in_namespace,
    python_module,
    run,
    tool,
)
from netvigil.testbed.netns.layout import RESOLVER, Layout
from netvigil.testbed.netns.probe import measure_in
from netvigil.testbed.netns.rules import DNS_PORT, iptables_document, tc_batch
from netvigil.testbed.netns.run import RunSpec
from netvigil.testbed.netns.service import MODULE
from netvigil.testbed.netns.topology import Topology
from netvigil.testbed.pki import TestbedPKI
from netvigil.testbed.scenarios.scenario import Scenario, Site

log = logging.getLogger(__name__)

TEMP_PREFIX = "netvigil-netns-"
READY_TIMEOUT = 30.0  # seconds for every service to listen
TOOLS = {"ip": "iproute2", "iptables-restore": "iptables", "tc": "iproute2", "sysctl": "procps"}


def unavailable_reason() -> str | None:
    """Why namespace mode cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "it needs root (CAP_NET_ADMIN to create network namespaces)"
    for name, package in TOOLS.items():
        if tool(name) is None:
            return f"{name} is not installed (Debian package {package})"
    try:
        run(["ip", "netns", "list"])
    except CommandFailed as exc:
        return f"ip netns does not work here: {exc}"
    return None


class NamespaceTestbed:
    """A scenario's network in namespaces, as an async context manager (entered once)."""

    def __init__(self, scenario: Scenario, *, helper: bool = True) -> None:
        self.scenario = scenario
        self.plan = AddressPlan(scenario)
        self._want_helper = helper
        self._entered = False
        self._topology: Topology | None = None
        self.services: list[Service] = []
        self.layout: Layout | None = None
        self.folder: Path | None = None
        self.ca_file: Path | None = None
        self.helper_url: str | None = None

    async def __aenter__(self) -> Self:
        if self._entered:
            raise RuntimeError("a NamespaceTestbed is entered once; make a new one")
        self._entered = True
        reason = unavailable_reason()
        if reason is not None:
            raise UnavailableMode(f"testbed mode 'netns': {reason}")
        try:
            self._start()
        except BaseException:
            self._stop()
            raise
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._stop()

    def _start(self) -> None:
        self.layout = Layout.for_scenario(self.scenario, self.plan)
        # The run's prefix in the folder's name, hence in every service's command line.
        self.folder = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{self.layout.prefix}-"))
        pki = TestbedPKI(self.folder)
        pki.save()
        self.ca_file = pki.ca_file
        self._topology = Topology(self.layout)
        self._topology.up()
        run_file = RunSpec(self.scenario, self.layout, str(self.folder)).save()
        ready = self._start_services(self.layout, run_file)
        pki.forget_keys()  # every service has loaded the authorities: their keys leave the disk now
        self._install_rules(self.layout, ready["censor"])
        if self._want_helper:
            self.helper_url = ready["helper"]["helper"]

    def _start_services(self, layout: Layout, run_file: Path) -> dict[str, dict[str, Any]]:
        """Start every service at once, then wait until each says it listens."""
        assert self.folder is not None
        roles = [("origins", layout.internet), ("resolver", layout.internet), ("censor", layout.router)]
        if self._want_helper:
            roles.append(("helper", layout.internet))
        for role, namespace in roles:
            argv = in_namespace(namespace, python_module(MODULE, role, str(run_file)))
            self.services.append(Service(role, argv, self.folder / f"{role}.log"))
        deadline = time.monotonic() + READY_TIMEOUT
        return {service.name: service.ready(deadline) for service in self.services}

    def _install_rules(self, layout: Layout, censor: dict[str, Any]) -> None:
        document = iptables_document(self.scenario, self.plan, layout, censor["dns"], censor["responders"])
        run(in_namespace(layout.router, ["iptables-restore"]), stdin=document)
        shaping = [line for c in layout.clients for line in tc_batch(self.scenario, self.plan, c.interface)]
        if shaping:
            run(["tc", "-n", layout.router, "-batch", "-"], stdin="\n".join(shaping) + "\n")

    def _stop(self) -> None:
        """Processes first (a namespace with a process in it outlives its deletion), then namespaces,
        then the folder.  Each step runs even if the one before failed; failures are raised."""
        try:
            self._stop_services()
        finally:
            try:
                if self._topology is not None:
                    self._topology.down()
            finally:
                if self.folder is not None and self.folder.exists():
                    shutil.rmtree(self.folder)

    def _stop_services(self) -> None:
        failures: list[Exception] = []
        while self.services:
            service = self.services.pop()
            try:
                service.stop()
            except (OSError, subprocess.SubprocessError) as exc:  # the others must still be stopped
                log.error("could not stop %s (pid %d): %s", service.name, service.pid, exc)
                failures.append(exc)
        if failures:
            raise failures[0]

    def endpoints(self, client: str) -> ClientEndpoints:
        assert self.ca_file is not None, "the testbed is not up"
        return ClientEndpoints(client=client, resolver=f"udp://{RESOLVER}:{DNS_PORT}", socks5=None,
                               ca_file=str(self.ca_file), test_helper=self.helper_url)

    def url(self, site: Site) -> str:
        return site.url

    def namespace(self, client: str) -> str:
        assert self.layout is not None, "the testbed is not up"
        return self.layout.client(client).namespace

    async def measure(self, client: str, url: str, config: ProbeConfig) -> dict[str, Any]:
        """The probe runs in ``client``'s namespace; its packets cross the censor."""
        return await measure_in(self.namespace(client), url, config)

    def instructions(self) -> str:
        """How to point dig and curl at the running testbed, from inside a client's namespace."""
        assert self.ca_file is not None
        lines = [f"testbed {self.scenario.name} is up in network namespaces: {self.scenario.description}",
                 f"CA to trust: {self.ca_file}", f"helper: {self.helper_url or 'none'}", ""]
        for client in self.scenario.clients:
            namespace = self.namespace(client.name)
            dig = f"ip netns exec {namespace} dig @{RESOLVER}"
            lines.append(f"client {client.name}: namespace {namespace}, resolver {RESOLVER} (hijacked by the censor)")
            for site in self.scenario.sites:
                port = 443 if site.scheme == "https" else 80
                # No usable answer becomes 0.0.0.0, where nothing listens in the client's namespace:
                # curl must never fall back to the system's resolver.
                answer = f"$({dig} +short {site.domain} | grep -m1 -E '^[0-9.]+$' || echo 0.0.0.0)"
                lines += [f"  {site.domain} (expected: {site.expected(client.name)})",
                          f"    {dig} {site.domain}",
                          (f'    ip netns exec {namespace} curl --resolve "{site.domain}:{port}:{answer}" '
                           f"--cacert {self.ca_file} {site.url}")]
        lines.append("\nCtrl-C stops it.")
        return "\n".join(lines)

