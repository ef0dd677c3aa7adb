"""Scenarios measured by the real probe and judged by the real analysis.

The catalogue (one site per technique) runs by default, watched by an audit
hook proving that nothing but loopback is ever contacted and that no name is
sent to the system resolver.  The whole library runs when selected
(``-m testbed_library``) and must finish within the issue's five minutes.
"""

from __future__ import annotations

import ipaddress
import sys
import time
from typing import Any

import pytest

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.testbed.scenarios.library import find_scenario, load_library
from netvigil.testbed.runner import format_confusion, format_results, run_scenario
from netvigil.testbed.scenarios.load import load_scenario

FULL_RUN_BUDGET = 300.0  # seconds, issue 3's acceptance
_watch: list[tuple[str, Any]] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _watch is not None and event in ("socket.connect", "socket.sendto", "socket.getaddrinfo"):
        _watch.append((event, args[1] if event != "socket.getaddrinfo" else args[0]))


sys.addaudithook(_audit)


def _is_loopback_literal(host: object) -> bool:
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


def test_the_catalogue_is_judged_right_and_stays_on_loopback(real_fingerprints: FingerprintDB) -> None:
    global _watch
    _watch = []
    try:
        report = run_scenario(load_scenario(find_scenario("catalogue")[0]), fingerprints=real_fingerprints)
    finally:
        seen, _watch = _watch, None
    assert report.ok, format_results(report)
    assert len(report.results) == 17
    assert seen, "the audit hook saw nothing"
    for event, target in seen:
        host = target if event == "socket.getaddrinfo" else target[0] if isinstance(target, tuple) else None
        if host is not None:
            assert _is_loopback_literal(host), f"{event} to {target!r}"


def test_measurements_carry_the_ground_truth(real_fingerprints: FingerprintDB) -> None:
    report = run_scenario(load_scenario(find_scenario("iran-2019")[0]), fingerprints=real_fingerprints)
    for result in report.results:
        m = result.measurement
        assert m["test_name"] == "web_connectivity" and m["software_name"] == "netvigil"
        assert m["annotations"]["testbed_expected"] == result.expected.value
        assert m["annotations"]["testbed_scenario"] == "iran-2019"
        assert m["probe_cc"] == "IR"


@pytest.mark.testbed_library
def test_the_whole_library_within_five_minutes(real_fingerprints: FingerprintDB) -> None:
    started = time.monotonic()
    reports = [run_scenario(s, fingerprints=real_fingerprints) for s in load_library()]
    elapsed = time.monotonic() - started
    wrong = [r for r in reports if not r.ok]
    assert not wrong, "\n".join(format_results(r) for r in wrong) + "\n" + format_confusion(
        [x for r in reports for x in r.results])
    assert elapsed < FULL_RUN_BUDGET, f"the library took {elapsed:.0f} s"
