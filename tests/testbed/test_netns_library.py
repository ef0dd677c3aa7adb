"""Scenarios in namespace mode, measured by the real probe and judged by the real analysis.

The catalogue (one site per technique) and the controls run by default; the
whole library is marked ``testbed_library`` and, like the loopback one, must
finish within the issue's five minutes.
"""

from __future__ import annotations

import time

import pytest
from netns_support import needs_namespaces

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.testbed.scenarios.library import find_scenario, load_library
from netvigil.testbed.runner import ScenarioReport, format_confusion, format_results, run_scenario
from netvigil.testbed.scenarios.load import load_scenario

pytestmark = needs_namespaces
FULL_RUN_BUDGET = 300.0  # seconds, issue 3's acceptance


def _run(name: str, fingerprints: FingerprintDB) -> ScenarioReport:
    return run_scenario(load_scenario(find_scenario(name)[0]), "netns", fingerprints=fingerprints)


def test_the_catalogue_is_judged_right_in_namespaces(real_fingerprints: FingerprintDB) -> None:
    report = _run("catalogue", real_fingerprints)
    assert report.mode == "netns"
    assert report.ok, format_results(report)
    assert len(report.results) == 17


def test_the_controls_are_never_called_censorship_in_namespaces(real_fingerprints: FingerprintDB) -> None:
    report = _run("controls", real_fingerprints)
    assert report.ok, format_results(report)
    assert len(report.results) == 7


def test_the_probe_measured_from_inside_the_namespaces(real_fingerprints: FingerprintDB) -> None:
    """Real ports, no proxy: the probe dialled the sites' own addresses on 80 and 443."""
    report = _run("iran-2019", real_fingerprints)
    assert report.ok, format_results(report)
    by_domain = {r.domain: r.measurement for r in report.results}
    weather = by_domain["weather.example"]["test_keys"]
    assert weather["queries"][0]["resolver_address"].startswith("93.184.214.53")
    assert {c["port"] for c in weather["tcp_connect"]} == {443}
    news = by_domain["news.example"]["test_keys"]
    assert any(a.get("ipv4") == "10.10.34.35" for q in news["queries"] for a in q["answers"])


@pytest.mark.testbed_library
def test_the_whole_library_in_namespaces_within_five_minutes(real_fingerprints: FingerprintDB) -> None:
    started = time.monotonic()
    reports = [run_scenario(s, "netns", fingerprints=real_fingerprints) for s in load_library()]
    elapsed = time.monotonic() - started
    wrong = [r for r in reports if not r.ok]
    assert not wrong, "\n".join(format_results(r) for r in wrong) + "\n" + format_confusion(
        [x for r in reports for x in r.results])
    assert elapsed < FULL_RUN_BUDGET, f"the library took {elapsed:.0f} s"
