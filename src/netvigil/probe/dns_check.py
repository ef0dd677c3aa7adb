"""dns_check: one name through several resolvers, compared -> one df-000 ``dnscheck`` measurement.

OONI's ts-028 dnscheck measures one resolver per measurement (``input`` is the
resolver URL, ``test_keys.lookups`` maps each of its endpoints to a urlgetter
result).  Censorship is seen by comparing resolvers for the same name, so here
``input`` is the domain and ``lookups`` maps each *resolver* to a urlgetter-shaped
result whose ``queries`` are df-002 records made by the probe's own DNS steps
(:mod:`dns`, :mod:`doh`).  ``bootstrap`` is ``null``: a DoH resolver named by
host is reached through the probe's client, whose lookup is not part of the
measurement.  ``x_comparison`` (:mod:`dns_compare`) says which resolvers agree,
which answers are bogons and which differ from the DoH (else majority) view.

Resolvers: ``system`` (getaddrinfo), ``udp://HOST[:PORT]``, ``https://...`` (DoH).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from netvigil.failures import Failure
from netvigil.probe import archival
from netvigil.probe.config import ConfigError, ProbeConfig, join_hostport, parse_udp_resolver
from netvigil.probe.dns import lookup_getaddrinfo, resolve_udp
from netvigil.probe.dns_compare import ResolverView, View, compare
from netvigil.probe.doh import resolve_doh
from netvigil.probe.envelope import envelope, new_report_id
from netvigil.probe.inputs import Input
from netvigil.probe.records import DNSQueryResult
from netvigil.probe.runner import RunOptions, RunStats, run_list
from netvigil.probe.scrub import Scrubber
from netvigil.probe.session import Session
from netvigil.probe.trace import Trace

TEST_NAME = "dnscheck"
TEST_VERSION = "0.1.0"
SYSTEM = "system:///"  # how OONI's urlgetter names the system resolver


@dataclass(frozen=True, slots=True)
class Resolver:
    key: str                               # normalised URL, the key in ``lookups``
    engine: str                            # "getaddrinfo", "udp" or "doh"
    server: tuple[str, int] | None = None  # for "udp"


def parse_resolver(text: str) -> Resolver:
    """``system``, ``udp://HOST[:PORT]`` or an ``https://`` DoH URL; raises ConfigError otherwise."""
    value = text.strip()
    if value in ("system", SYSTEM):
        return Resolver(SYSTEM, "getaddrinfo")
    if value.startswith("udp://"):
        server = parse_udp_resolver(value)
        return Resolver(f"udp://{join_hostport(*server)}", "udp", server)
    if value.startswith("https://") and len(value) > len("https://"):
        return Resolver(value, "doh")
    raise ConfigError(f"resolver {text!r} is not 'system', udp://HOST:PORT or an https:// DoH URL")


@dataclass(frozen=True, slots=True)
class Lookup:
    resolver: Resolver
    queries: tuple[DNSQueryResult, ...]

    @property
    def view(self) -> View:
        """Every address of every query; the first failure (else ``dns_no_answer``) when there is none."""
        addresses = tuple(sorted({a for q in self.queries for a in q.addresses()}))
        if addresses:
            return View(addresses)
        return View(failure=next((q.failure for q in self.queries if q.failure), Failure.DNS_NO_ANSWER.value))


async def lookup(domain: str, resolver: Resolver, *, session: Session, trace: Trace) -> Lookup:
    """One resolver's answers for ``domain``, through the probe's own DNS steps."""
    net, tags = session.net, ()
    queries: tuple[DNSQueryResult, ...]
    if resolver.engine == "getaddrinfo":
        queries = (await lookup_getaddrinfo(domain, trace=trace, tags=tags, timeout=net.dns_timeout),)
    elif resolver.engine == "udp" and resolver.server is not None:
        queries = await resolve_udp(domain, resolver.server, trace=trace, tags=tags, timeout=net.dns_timeout)
    elif resolver.engine == "doh":
        queries = await resolve_doh(domain, resolver.key, net=net, trace=trace, tags=tags)
    else:
        raise ConfigError(f"resolver {resolver} cannot be used")
    return Lookup(resolver, queries)


async def run_dns_check(domains: Sequence[Input], resolvers: Sequence[Resolver], config: ProbeConfig,
                        options: RunOptions) -> RunStats:
    """Every domain through every resolver with the probe's runner (resume, bounded concurrency,
    progress, collector), under a report id of its own test name."""
    report_id = config.report_id or new_report_id(datetime.now(UTC), probe_cc=config.probe_cc,
                                                  probe_asn=config.probe_asn, test_name=TEST_NAME)
    return await run_list(domains, replace(config, report_id=report_id), options,
                          measure=partial(measure_dns_check, resolvers=tuple(resolvers)))


async def measure_dns_check(domain: str, config: ProbeConfig, *, session: Session,
                            resolvers: Sequence[Resolver]) -> dict[str, Any]:
    """One dnscheck measurement of ``domain``, in the runner's ``measure(input, config, session=)``
    shape (bind ``resolvers`` with :func:`functools.partial`).  Network failures are recorded,
    never raised; the probe's public addresses are scrubbed last."""
    started, clock, trace = datetime.now(UTC), time.monotonic(), Trace()
    lookups = await asyncio.gather(*(lookup(domain, r, session=session, trace=trace) for r in resolvers))
    record = envelope(
        url=domain, test_keys=dnscheck_keys(domain, lookups), measurement_start=started,
        test_start=session.test_start, runtime=time.monotonic() - clock, report_id=session.report_id,
        probe_cc=config.probe_cc, probe_asn=config.probe_asn, probe_network_name=config.probe_network_name,
        resolver_ip=session.resolver_ip, test_helper=None, test_name=TEST_NAME, test_version=TEST_VERSION)
    return Scrubber(session.public_ips).scrub(record)


def dnscheck_keys(domain: str, lookups: Sequence[Lookup]) -> dict[str, Any]:
    """ts-028 keys (``domain``, ``bootstrap``, ``bootstrap_failure``, ``lookups``) plus ``x_comparison``."""
    views = [ResolverView(lk.resolver.key, lk.resolver.engine, lk.view) for lk in lookups]
    return {
        "domain": domain,
        "bootstrap": None,
        "bootstrap_failure": None,
        "lookups": {lk.resolver.key: _urlgetter(lk) for lk in lookups},
        "x_comparison": compare(views).to_dict(),
    }


def _urlgetter(lk: Lookup) -> dict[str, Any]:
    """The ts-027 urlgetter shape of a DNS-only lookup: no connection, request or handshake."""
    failure = lk.view.failure
    return {
        "agent": "", "failed_operation": "resolve" if failure else None, "failure": failure,
        "network_events": [], "queries": [archival.dns_query(q) for q in lk.queries],
        "requests": None, "tcp_connect": None, "tls_handshakes": None,
    }
