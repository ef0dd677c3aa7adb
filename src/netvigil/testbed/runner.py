"""Running a scenario: network up, every site measured and judged, network down.

Every (client, site) pair is measured with the probe
(``netvigil.probe.web_connectivity.measure``) through the client's censored
resolver and middle (loopback mode) or from the client's network namespace
(namespace mode), judged by ``netvigil.analysis.web.analyze_measurement``,
and compared with the site's expected technique.  Timeouts are short (the
network is local) and sites are measured concurrently, so a scenario takes
seconds.  The measurements are kept, annotated with the ground truth
(``annotations.testbed_*``), for ``--output``.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.analysis.web import analyze_measurement
from netvigil.model.measurement import measurement_from_dict
from netvigil.model.verdict import Outcome, Technique
from netvigil.probe.config import ProbeConfig
from netvigil.testbed.backend import Backend, ClientEndpoints, UnavailableMode
from netvigil.testbed.loopback.testbed import LoopbackTestbed
from netvigil.testbed.netns.testbed import NamespaceTestbed
from netvigil.testbed.scenarios.scenario import Scenario

BACKENDS: dict[str, Callable[[Scenario], Backend]] = {"loopback": LoopbackTestbed, "netns": NamespaceTestbed}
CONCURRENCY = 8
PROBE_TIMEOUTS = {"dns_timeout": 1.5, "connect_timeout": 2.5, "tls_timeout": 2.5, "http_timeout": 5.0}
_CORNER = "expected \\ got"


@dataclass(frozen=True, slots=True)
class SiteResult:
    client: str
    domain: str
    url: str
    expected: Technique
    got: Technique
    outcome: Outcome
    rule: str
    measurement: dict[str, Any]

    @property
    def match(self) -> bool:
        return self.got is self.expected


@dataclass(frozen=True, slots=True)
class ScenarioReport:
    scenario: str
    mode: str
    results: tuple[SiteResult, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(r.match for r in self.results)

    @property
    def mismatches(self) -> tuple[SiteResult, ...]:
        return tuple(r for r in self.results if not r.match)


def backend_for(mode: str) -> Callable[[Scenario], Backend]:
    if mode in BACKENDS:
        return BACKENDS[mode]
    raise UnavailableMode(f"testbed mode {mode!r}: no such mode (modes: {', '.join(BACKENDS)})")


def run_scenario(scenario: Scenario, mode: str = "loopback", *,
                 fingerprints: FingerprintDB | None = None) -> ScenarioReport:
    """Bring ``scenario`` up in ``mode``, measure and judge every site, tear it down."""
    return asyncio.run(run_scenario_async(scenario, mode, fingerprints=fingerprints))


async def run_scenario_async(scenario: Scenario, mode: str = "loopback", *,
                             fingerprints: FingerprintDB | None = None) -> ScenarioReport:
    make = backend_for(mode)
    if fingerprints is None:
        from netvigil.store.reference_data import load_default_fingerprints

        fingerprints = load_default_fingerprints()
    started = time.monotonic()
    slots = asyncio.Semaphore(CONCURRENCY)
    async with make(scenario) as bed:
        async def one(client: str, domain: str) -> SiteResult:
            async with slots:
                return await _measure_site(scenario, bed, client, domain, fingerprints)

        pairs = [(c.name, s.domain) for c in scenario.clients for s in scenario.sites]
        results = await asyncio.gather(*(one(client, domain) for client, domain in pairs))
    return ScenarioReport(scenario.name, mode, tuple(results), time.monotonic() - started)


async def _measure_site(scenario: Scenario, bed: Backend, client: str, domain: str,
                        fingerprints: FingerprintDB) -> SiteResult:
    site = scenario.site(domain)
    assert site is not None
    endpoints = bed.endpoints(client)
    url = bed.url(site)
    measurement = await bed.measure(client, url, probe_config(endpoints, scenario.country))
    measurement.setdefault("annotations", {}).update(
        testbed_scenario=scenario.name, testbed_client=client, testbed_expected=site.expected(client).value)
    summary = analyze_measurement(measurement_from_dict(measurement), fingerprints).summary
    return SiteResult(client=client, domain=domain, url=url, expected=site.expected(client),
                      got=summary.technique, outcome=summary.outcome, rule=summary.rule,
                      measurement=measurement)


def probe_config(endpoints: ClientEndpoints, country: str) -> ProbeConfig:
    """The contract's ProbeConfig for one client of a testbed."""
    return ProbeConfig(resolver=endpoints.resolver, use_system_resolver=False, socks5=endpoints.socks5,
                       ca_file=endpoints.ca_file, test_helper=endpoints.test_helper, probe_cc=country,
                       **PROBE_TIMEOUTS)


def confusion(results: Iterable[SiteResult]) -> Counter[tuple[Technique, Technique]]:
    """(expected, got) -> count."""
    return Counter((r.expected, r.got) for r in results)


def format_confusion(results: Iterable[SiteResult]) -> str:
    """The confusion matrix as text: a row per expected technique, a column per verdict."""
    counts = confusion(results)
    if not counts:
        return "(no sites)"
    order = list(Technique)
    rows = sorted({e for e, _ in counts}, key=order.index)
    cols = sorted({g for _, g in counts}, key=order.index)
    width = max(len(_CORNER), *(len(r.value) for r in rows))
    widths = [max(len(c.value), 3) for c in cols]
    header = (f"{c.value:>{w}}" for c, w in zip(cols, widths, strict=True))
    lines = [" ".join([f"{_CORNER:<{width}}", *header])]
    for r in rows:
        cells = [f"{counts.get((r, c), 0) or '.':>{w}}" for c, w in zip(cols, widths, strict=True)]
        lines.append(" ".join([f"{r.value:<{width}}", *cells]))
    return "\n".join(lines)


def format_results(report: ScenarioReport) -> str:
    """One line per (client, site): expected, got, outcome, and whether they match."""
    lines = [f"{report.scenario} ({report.mode}, {report.seconds:.1f} s)"]
    for r in sorted(report.results, key=lambda r: (r.client, r.domain)):
        mark = "ok  " if r.match else "FAIL"
        lines.append(f"  {mark} {r.client:<10} {r.domain:<28} expected {r.expected.value:<15} "
                     f"got {r.got.value:<15} {r.outcome.value:<8} {r.rule}")
    return "\n".join(lines)
