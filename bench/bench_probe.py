"""Benchmark of the probe: 1,000 web_connectivity measurements on loopback at concurrency 64.

A server process hosts everything the probe talks to: a UDP resolver, HTTP
origins on 127.0.0.10-13, a port with nothing listening (refused) and a
listening socket whose accept queue is full and never drained (blackholed:
SYNs are dropped, so connects time out), plus our test helper.  The measuring
process runs the real runner; its CPU time (``time.process_time``) therefore
covers the probe only.  The mix is 90 % reachable (60 % over HTTP, 30 % over
HTTPS with a certificate from a benchmark CA), 7 % refused, 3 % blackholed.
Prints figures only.

Run: ``cd /work/main && PYTHONPATH=src .venv/bin/python bench/bench_probe.py``
"""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "probe"))

from probe_servers import (
    http_response,
    make_ca,
    page,
    port_of,
    refused_port,
    serve_bytes,
    server_context,
    start_dns,
    start_tcp,
)

from netvigil.probe.config import ProbeConfig
from netvigil.probe.helper_server import start_helper
from netvigil.probe.inputs import Input
from netvigil.probe.runner import RunOptions, run_list

URLS = 1_000
CONCURRENCY = 64
ORIGINS = [f"127.0.0.{10 + i}" for i in range(4)]
TIMEOUTS = {"connect_timeout": 2.0, "tls_timeout": 2.0, "http_timeout": 3.0, "dns_timeout": 1.0}


def blackhole() -> tuple[socket.socket, list[socket.socket], int]:
    """A listener with a full accept queue: further SYNs are silently dropped."""
    listener = socket.socket()
    listener.bind(("127.0.0.20", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.20", port))
        fillers.append(filler)
    time.sleep(0.2)
    return listener, fillers, port


def serve(conn, tmp: Path) -> None:
    """The server process: reports its addresses through ``conn``, then serves forever."""
    async def main() -> None:
        body = http_response(page("Benchmark Origin Page", size=20_000))
        ca = make_ca()
        (tmp / "ca.pem").write_bytes(ca.pem())
        tls = server_context(ca, [f"ok{n}.bench" for n in range(URLS)], tmp)
        origins = [await start_tcp(serve_bytes(body), host=ip) for ip in ORIGINS]
        origins += [await start_tcp(serve_bytes(body), host=ip, ssl_context=tls) for ip in ORIGINS]
        records = {f"ok{n}.bench": [ORIGINS[n % len(ORIGINS)]] for n in range(URLS)}
        records |= {f"refused{n}.bench": ["127.0.0.1"] for n in range(URLS)}
        records |= {f"hole{n}.bench": ["127.0.0.20"] for n in range(URLS)}
        dns = await start_dns(records)
        helper = await start_helper(host="127.0.0.1", port=0, resolver=dns.address, ca_file=None,
                                    allow_private_targets=True)
        hole = blackhole()
        conn.send((dns.address, helper.url, [port_of(o) for o in origins], refused_port(), hole[2]))
        await asyncio.Event().wait()

    asyncio.run(main())


def urls(ports: list[int], refused: int, hole: int) -> list[Input]:
    found = []
    for n in range(URLS):
        if n % 100 < 3:
            found.append(Input(f"http://hole{n}.bench:{hole}/"))
        elif n % 100 < 10:
            found.append(Input(f"http://refused{n}.bench:{refused}/"))
        elif n % 100 < 40:
            found.append(Input(f"https://ok{n}.bench:{ports[len(ORIGINS) + n % len(ORIGINS)]}/page/{n}"))
        else:
            found.append(Input(f"http://ok{n}.bench:{ports[n % len(ORIGINS)]}/page/{n}"))
    return found


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        parent, child = multiprocessing.Pipe()
        server = multiprocessing.Process(target=serve, args=(child, Path(tmp)), daemon=True)
        server.start()
        resolver, helper, ports, refused, hole = parent.recv()
        config = ProbeConfig(resolver=resolver, use_system_resolver=False, test_helper=helper,
                             ca_file=str(Path(tmp) / "ca.pem"), **TIMEOUTS)
        inputs = urls(ports, refused, hole)
        output = Path(tmp) / "bench.jsonl"
        cpu0, wall0 = time.process_time(), time.perf_counter()
        stats = asyncio.run(run_list(inputs, config, RunOptions(output=output, concurrency=CONCURRENCY,
                                                                progress=False)))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        size = output.stat().st_size
        failures = Counter(orjson.loads(line)["test_keys"]["http_experiment_failure"]
                           for line in output.read_bytes().splitlines())
        server.terminate()
    slowest = max(TIMEOUTS.values())
    print(f"urls measured           {stats.measured}")
    print(f"concurrency             {CONCURRENCY}")
    print(f"wall time               {wall:.2f} s")
    print(f"urls per second         {stats.measured / wall:.1f}")
    print(f"cpu per url             {1000 * cpu / stats.measured:.2f} ms (process_time, probe process only)")
    print(f"slowest single timeout  {slowest:.1f} s (wall / slowest = {wall / slowest:.1f})")
    print(f"output                  {size / stats.measured / 1024:.1f} KiB per measurement")
    for failure, count in sorted(failures.items(), key=lambda item: -item[1]):
        print(f"  http_experiment_failure {failure!s:<24} {count}")


if __name__ == "__main__":
    main()
