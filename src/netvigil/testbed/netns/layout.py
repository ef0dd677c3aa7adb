"""The namespaces of one namespace-mode run, their links and their addresses.

::

    client namespaces           router (the censor)           the internet
    ┌──────────┐ uplink   c0 ┌───────────────────┐ core  core ┌───────────────────────┐
    │ probe    ├─────────────┤ ip_forward,       ├────────────┤ origins on the sites'  │
    └──────────┘             │ iptables, tc,     │            │ addresses, resolver,   │
    ┌──────────┐ uplink   c1 │ censored DNS and  │            │ helper                 │
    │ client 2 ├─────────────┤ responders on     │            └───────────────────────┘
    └──────────┘             │ 10.199.0.1        │
                             └───────────────────┘

Each client of the scenario (a vantage point) has its own namespace, so a
regional shutdown is a rule on one router interface.  Sites and hosts keep the
addresses of the :class:`~netvigil.testbed.addressing.AddressPlan`: the
*advertised* ones (IANA's example range 93.184.215.0/24, fixed hosts such as
Iran's 10.10.34.35) are really assigned, on the internet namespace's
loopback, because the analysis must see routable answers.  That is safe: the
namespaces are joined only to each other, with no link to the machine's own
network and no default route beyond the router, so those addresses exist only
inside them and no packet can leave.

Infrastructure addresses come from private ranges used only here: 10.200.0.0/30
between router and internet, 10.201.K.0/24 for client K, and 10.199.0.1 for
the censor's own services.  Names are unique per run
(``nv-<pid>-<n>-<role>``), so runs can share a machine.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
from dataclasses import dataclass

from netvigil.testbed.addressing import AddressPlan
from netvigil.testbed.scenarios.scenario import Scenario

NAME_PREFIX = "nv-"
RESOLVER = "93.184.214.53"  # the public resolver probes are configured with (the censor hijacks it)
HELPER = "93.184.214.80"  # the test helper, on the internet side
HELPER_PORT = 80
INTERNET_RANGE = "93.184.214.0/23"  # routed from the router to the internet namespace
CENSOR_SERVICES = "10.199.0.1"  # censored DNS and responders, reached by DNAT
CORE_ROUTER, CORE_INTERNET = "10.200.0.1", "10.200.0.2"
CORE_PREFIX = 30
CLIENT_NETWORK = "10.201.0.0/16"  # client K: 10.201.K.2, its gateway 10.201.K.1
CLIENT_PREFIX = 24
MAX_CLIENTS = 250
INFRASTRUCTURE = ("10.199.0.0/16", "10.200.0.0/16", CLIENT_NETWORK)
UPLINK, CORE = "uplink", "core"  # interface names, each inside its own namespace

_runs = itertools.count()


@dataclass(frozen=True, slots=True)
class ClientSide:
    """One vantage point: its namespace, its address, and the router interface facing it."""

    name: str
    namespace: str
    interface: str  # in the router namespace
    address: str
    gateway: str


@dataclass(frozen=True, slots=True)
class Layout:
    prefix: str
    router: str
    internet: str
    clients: tuple[ClientSide, ...]
    hosted: tuple[str, ...]  # every advertised address, assigned in the internet namespace
    extra_routes: tuple[str, ...]  # advertised addresses outside INTERNET_RANGE (fixed hosts)

    @classmethod
    def for_scenario(cls, scenario: Scenario, plan: AddressPlan, prefix: str | None = None) -> Layout:
        if len(scenario.clients) > MAX_CLIENTS:
            raise ValueError(f"{len(scenario.clients)} clients: namespace mode has room for {MAX_CLIENTS}")
        prefix = prefix or next_prefix()
        hosted = tuple(p.advertised for p in plan.placements)
        _check_no_clash(hosted)
        internet = ipaddress.ip_network(INTERNET_RANGE)
        clients = tuple(_client_side(prefix, k, c.name) for k, c in enumerate(scenario.clients))
        return cls(prefix=prefix, router=f"{prefix}-censor", internet=f"{prefix}-net", clients=clients,
                   hosted=hosted,
                   extra_routes=tuple(a for a in hosted if ipaddress.ip_address(a) not in internet))

    @property
    def namespaces(self) -> tuple[str, ...]:
        return (self.router, self.internet, *(c.namespace for c in self.clients))

    def client(self, name: str) -> ClientSide:
        return next(c for c in self.clients if c.name == name)


def next_prefix() -> str:
    """``nv-<pid>-<n>``: unique on this machine while this process lives."""
    return f"{NAME_PREFIX}{os.getpid()}-{next(_runs)}"


def _client_side(prefix: str, k: int, name: str) -> ClientSide:
    base = ipaddress.ip_network(CLIENT_NETWORK).network_address + (k << 8)
    return ClientSide(name=name, namespace=f"{prefix}-c{k}", interface=f"c{k}", address=str(base + 2),
                      gateway=str(base + 1))


def _check_no_clash(addresses: tuple[str, ...]) -> None:
    """A fixed host may not sit in the testbed's own infrastructure ranges."""
    for address in addresses:
        ip = ipaddress.ip_address(address)
        clash = next((r for r in INFRASTRUCTURE if ip in ipaddress.ip_network(r)), None)
        if clash is not None:
            raise ValueError(f"host address {address} is in {clash}, which namespace mode uses for its links")
