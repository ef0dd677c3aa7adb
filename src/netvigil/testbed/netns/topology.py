"""Creating and deleting the namespaces of a :class:`~netvigil.testbed.netns.layout.Layout`.

Veth pairs are created directly inside the namespaces (``ip -n A link add X
type veth peer name Y netns B``): no interface ever appears in the machine's
own namespace, even for an instant, and deleting a namespace deletes its veth
ends.  Routes, addresses, iptables rules and qdiscs all live inside the
namespaces too, so :meth:`Topology.down` (delete every namespace this run
created) removes every trace, once the processes inside have ended.

Each namespace is configured with one ``ip -batch`` (a process per namespace,
not per command) to keep bringing up quick.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from netvigil.testbed.netns.commands import CommandFailed, in_namespace, run
from netvigil.testbed.netns.layout import (
    CENSOR_SERVICES,
    CLIENT_NETWORK,
    CLIENT_PREFIX,
    CORE,
    CORE_INTERNET,
    CORE_PREFIX,
    CORE_ROUTER,
    HELPER,
    INTERNET_RANGE,
    RESOLVER,
    UPLINK,
    Layout,
)

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Topology:
    """The namespaces of one run; remembers which it created, to delete exactly those."""

    layout: Layout
    created: list[str] = field(default_factory=list)

    def up(self) -> None:
        for namespace in self.layout.namespaces:
            run(["ip", "netns", "add", namespace])
            self.created.append(namespace)
        self._links()
        _batch(self.layout.router, _router_commands(self.layout))
        _batch(self.layout.internet, _internet_commands(self.layout))
        for client in self.layout.clients:
            _batch(client.namespace, _client_commands(client.address, client.gateway))
        run(in_namespace(self.layout.router, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]))

    def _links(self) -> None:
        router = self.layout.router
        run(["ip", "-n", router, "link", "add", CORE, "type", "veth", "peer", "name", CORE,
             "netns", self.layout.internet])
        for client in self.layout.clients:
            run(["ip", "-n", router, "link", "add", client.interface, "type", "veth", "peer", "name", UPLINK,
                 "netns", client.namespace])

    def down(self) -> None:
        """Delete the namespaces this run created; raises once all were tried if one could not go."""
        failures: list[CommandFailed] = []
        while self.created:
            namespace = self.created.pop()
            try:
                run(["ip", "netns", "delete", namespace])
            except CommandFailed as exc:
                log.error("could not delete namespace %s: %s", namespace, exc)
                failures.append(exc)
        if failures:
            raise failures[0]


def _batch(namespace: str, commands: list[str]) -> None:
    run(["ip", "-n", namespace, "-batch", "-"], stdin="\n".join(commands) + "\n")


def _router_commands(layout: Layout) -> list[str]:
    commands = ["link set lo up", f"addr add {CENSOR_SERVICES}/32 dev lo",
                f"addr add {CORE_ROUTER}/{CORE_PREFIX} dev {CORE}", f"link set {CORE} up",
                f"route add {INTERNET_RANGE} via {CORE_INTERNET}"]
    commands += [f"route add {address}/32 via {CORE_INTERNET}" for address in layout.extra_routes]
    for client in layout.clients:
        commands += [f"addr add {client.gateway}/{CLIENT_PREFIX} dev {client.interface}",
                     f"link set {client.interface} up"]
    return commands


def _internet_commands(layout: Layout) -> list[str]:
    commands = ["link set lo up", f"addr add {CORE_INTERNET}/{CORE_PREFIX} dev {CORE}", f"link set {CORE} up",
                f"route add {CLIENT_NETWORK} via {CORE_ROUTER}"]
    commands += [f"addr add {address}/32 dev lo" for address in (RESOLVER, HELPER, *layout.hosted)]
    return commands


def _client_commands(address: str, gateway: str) -> list[str]:
    return ["link set lo up", f"addr add {address}/{CLIENT_PREFIX} dev {UPLINK}", f"link set {UPLINK} up",
            f"route add default via {gateway}"]
