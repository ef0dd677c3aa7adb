"""Benchmark of a full scenario-library run of the censorship testbed (either mode).

Every library scenario is brought up, every (client, site) measured by the probe
through it and judged by the analysis, and torn down, one scenario after the
other, as ``netvigil testbed run all`` does.  Prints the time of each scenario
(bring-up, measurement and teardown included), the total, and how many verdicts
matched their ground truth.  Issue 3's budget for the whole run is 5 minutes.

Run: ``cd /work/main && PYTHONPATH=src .venv/bin/python bench/bench_testbed.py [--mode netns]``
(namespace mode needs root).
"""

from __future__ import annotations

import argparse
import time

from netvigil.store.reference_data import load_default_fingerprints
from netvigil.testbed.scenarios.library import load_library
from netvigil.testbed.runner import run_scenario

BUDGET_SECONDS = 300


def main() -> None:
    parser = argparse.ArgumentParser(description="Time a full library run of the testbed.")
    parser.add_argument("--mode", default="loopback", choices=["loopback", "netns"])
    mode = parser.parse_args().mode
    fingerprints = load_default_fingerprints()
    scenarios = load_library()
    started = time.monotonic()
    matched = total = 0
    for scenario in scenarios:
        report = run_scenario(scenario, mode, fingerprints=fingerprints)
        matched += sum(r.match for r in report.results)
        total += len(report.results)
        print(f"{scenario.name:<20} {len(report.results):>3} measurements {report.seconds:6.1f} s")
    elapsed = time.monotonic() - started
    print(f"{'library':<20} {total:>3} measurements {elapsed:6.1f} s in {mode} mode "
          f"({matched} of {total} verdicts as expected; budget {BUDGET_SECONDS} s)")


if __name__ == "__main__":
    main()
