"""The probe, measuring from inside a client's namespace.

``python -m netvigil.testbed.netns.probe NAMESPACE`` (run through ``ip netns
exec``; NAMESPACE only labels the process) reads ``{"url": ..., "config": {ProbeConfig fields}}`` as JSON on standard
input, runs one ``web_connectivity`` measurement, and writes it as JSON on
standard output.  A process per measurement: its sockets are born in the
client's namespace, so every packet of it crosses the censor, and it cannot
leak state between measurements.  :func:`measure_in` is the testbed's side.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from typing import Any

import orjson

from netvigil.probe.config import ProbeConfig
from netvigil.probe.web_connectivity import measure
from netvigil.testbed.netns.commands import in_namespace, python_module, run_async

MODULE = "netvigil.testbed.netns.probe"
MEASUREMENT_LIMIT = 90.0  # seconds; far beyond the testbed's probe timeouts, only a guard


async def measure_in(namespace: str, url: str, config: ProbeConfig) -> dict[str, Any]:
    """One measurement of ``url`` by a probe process inside ``namespace``."""
    request = orjson.dumps({"url": url, "config": dataclasses.asdict(config)})
    # The namespace is named on the command line only to tell the processes of runs apart.
    out = await run_async(in_namespace(namespace, python_module(MODULE, namespace)), stdin=request,
                          timeout=MEASUREMENT_LIMIT)
    measurement: dict[str, Any] = orjson.loads(out)
    return measurement


def main() -> int:
    request = orjson.loads(sys.stdin.buffer.read())
    config = ProbeConfig(**request["config"])
    measurement = asyncio.run(measure(request["url"], config))
    sys.stdout.buffer.write(orjson.dumps(measurement))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
