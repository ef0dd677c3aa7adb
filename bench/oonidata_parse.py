"""Time oonidata's typed parse of each JSONL line; run by bench_vs_oonidata.py inside the oonidata venv.

Each line goes through ``orjson.loads`` and ``oonidata.dataclient.load_measurement``,
the loader ooni/data's observation stage starts with (the test_name picks the
mashumaro model, WebConnectivity here).  Prints one JSON object: count, errors
(lines the model rejects), the best CPU time (``time.process_time``) over the rounds, and the version.
Imports only oonidata and its dependencies, never netvigil.
"""

from __future__ import annotations

import sys
import time
from importlib.metadata import version

import orjson
from oonidata.dataclient import load_measurement


def one_round(lines: list[bytes]) -> tuple[float, int, set[str]]:
    errors, kinds = 0, set()
    start = time.process_time()
    for line in lines:
        try:
            kinds.add(type(load_measurement(msmt=orjson.loads(line))).__name__)
        except Exception:  # a model rejecting a measurement is a figure, not a crash
            errors += 1
    return time.process_time() - start, errors, kinds


def main(path: str, rounds: int) -> None:
    with open(path, "rb") as f:
        lines = f.read().splitlines()
    runs = [one_round(lines) for _ in range(rounds)]
    print(orjson.dumps(dict(n=len(lines), errors=runs[0][1], models=sorted(runs[0][2]),
                            best_s=min(r[0] for r in runs), oonidata=version("oonidata"),
                            mashumaro=version("mashumaro"), orjson=version("orjson"),
                            python=sys.version.split()[0])).decode())


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
