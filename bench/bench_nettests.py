"""Benchmark of the analysis of tests other than web_connectivity.

Reads every real non-web measurement under ``$NETVIGIL_SHARED_DATA`` (fastpath
fixtures, and the example outputs pasted into the ooni/spec nettest pages) at
run time, parses each once, and times ``analyze_measurement`` over them
repeatedly, per test.  The web_connectivity fastpath fixtures are timed the same
way for comparison.  Prints figures only.

Run: ``PYTHONPATH=src .venv/bin/python bench/bench_nettests.py``
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.analysis.web import analyze_measurement
from netvigil.model.errors import BadRecord
from netvigil.model.measurement import Measurement, measurement_from_dict
from netvigil.store.reference_data import shared_data_dir

ROUNDS = 300


def measurements() -> list[Measurement]:
    data = shared_data_dir()
    raws = []
    for path in sorted((data / "ooni-backend/fastpath/fastpath/tests/data").glob("*.json")):
        raw = json.loads(path.read_text())
        if isinstance(raw, dict) and "test_keys" in raw:
            raws.append(raw)
    for path in sorted((data / "ooni-spec/nettests").glob("ts-*.md")):
        for block in re.findall(r"```(?:JSON|json)?\n(.*?)```", path.read_text(), re.S):
            if '"test_keys"' in block:
                try:
                    raws.append(json.loads(block))
                except ValueError:
                    pass
    out = []
    for raw in raws:
        try:
            out.append(measurement_from_dict(raw))
        except BadRecord:
            pass
    return out


def main() -> None:
    fingerprints = FingerprintDB.empty()
    by_test: dict[str, list[Measurement]] = defaultdict(list)
    for m in measurements():
        by_test[m.test_name].append(m)
    print(f"{'test':<34} {'fixtures':>8} {'analyses/s':>12} {'µs each':>9}")
    total_n, total_t = 0, 0.0
    for name, ms in sorted(by_test.items()):
        start = time.perf_counter()
        for _ in range(ROUNDS):
            for m in ms:
                analyze_measurement(m, fingerprints)
        elapsed = time.perf_counter() - start
        n = ROUNDS * len(ms)
        if name != "web_connectivity":
            total_n, total_t = total_n + n, total_t + elapsed
        print(f"{name:<34} {len(ms):>8} {n / elapsed:>12,.0f} {elapsed / n * 1e6:>9.1f}")
    print(f"{'all non-web tests':<34} {sum(len(v) for k, v in by_test.items() if k != 'web_connectivity'):>8} "
          f"{total_n / total_t:>12,.0f} {total_t / total_n * 1e6:>9.1f}")


if __name__ == "__main__":
    main()
