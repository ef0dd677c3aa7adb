"""Namespace mode's servers, each a real process inside its namespace.

``python -m netvigil.testbed.netns.service ROLE RUN_FILE`` (run through ``ip
netns exec``) serves one role of the run described by ``RUN_FILE``:

* ``origins`` (internet namespace): every site's and host's origin server, on
  its advertised address, ports 80 and 443 (:func:`~netvigil.testbed.origin.start_origins`);
* ``resolver`` (internet namespace): the clean resolver, the truth, on
  :data:`~netvigil.testbed.netns.layout.RESOLVER` port 53;
* ``helper`` (internet namespace): the test helper, which reaches sites
  directly, never through the censor;
* ``censor`` (router namespace): :mod:`netvigil.testbed.netns.censor`.

These are the loopback servers' own code, bound elsewhere.  A service prints
one JSON line once it listens (the censor's gives the ports the router's
rules need), then serves until SIGTERM, SIGINT or the end of its standard
input (the testbed is gone), and closes everything it opened before exiting.

The run file is a pickle of :class:`RunSpec`, written by the testbed into
its own folder (mode 0700, removed at teardown) just before starting the
services: the scenario is already validated, and nothing else writes there.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import orjson

from netvigil.probe.helper_server import start_helper
from netvigil.probe.net import Net
from netvigil.probe.tls import client_context
from netvigil.testbed.aio import Supervisor
from netvigil.testbed.dns_censor import DnsServer
from netvigil.testbed.addressing import Ports
from netvigil.testbed.policy import dns_policy
from netvigil.testbed.netns.layout import CLIENT_NETWORK, HELPER, HELPER_PORT, RESOLVER
from netvigil.testbed.netns.rules import DNS_PORT, HTTP_PORT, HTTPS_PORT
from netvigil.testbed.netns.run import RunSpec
from netvigil.testbed.origin import OriginBinding, start_origins

MODULE = "netvigil.testbed.netns.service"


Start = Callable[[RunSpec, AsyncExitStack], Awaitable[dict[str, Any]]]


def _supervisor(name: str, stack: AsyncExitStack) -> Supervisor:
    supervisor = Supervisor(name)
    stack.push_async_callback(supervisor.close)
    return supervisor


async def start_origin_servers(spec: RunSpec, stack: AsyncExitStack) -> dict[str, Any]:
    supervisor = _supervisor("origins", stack)
    binding = OriginBinding(ports=Ports(HTTP_PORT, HTTPS_PORT), advertised=True, probe_network=CLIENT_NETWORK)
    await start_origins(spec.scenario, spec.plan, spec.pki("origins"), supervisor, binding)
    return {"sites": len(spec.scenario.sites)}


async def start_resolver(spec: RunSpec, stack: AsyncExitStack) -> dict[str, Any]:
    supervisor = _supervisor("resolver", stack)
    server = await DnsServer(dns_policy(spec.scenario, spec.plan, None), supervisor).start(RESOLVER, DNS_PORT)
    return {"resolver": server.url}


async def start_test_helper(spec: RunSpec, stack: AsyncExitStack) -> dict[str, Any]:
    ca_file = str(Path(spec.folder) / "testbed-ca.pem")
    net = Net(udp_resolver=(RESOLVER, DNS_PORT), use_system_resolver=False, tls_context=client_context(ca_file))
    helper = await start_helper(host=HELPER, port=HELPER_PORT, resolver=f"udp://{RESOLVER}:{DNS_PORT}",
                                ca_file=ca_file, net=net, allow_private_targets=True)
    stack.push_async_callback(helper.close)
    return {"helper": helper.url}


def _roles() -> dict[str, Start]:
    from netvigil.testbed.netns.censor import start_censor  # the censor's own imports, only where it runs

    return {"origins": start_origin_servers, "resolver": start_resolver, "helper": start_test_helper,
            "censor": start_censor}


async def serve(start: Start, spec: RunSpec) -> None:
    """Start a role, announce it on stdout, serve until told to stop, then close it all."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    stdin = sys.stdin.fileno()

    def on_input() -> None:
        if not os.read(stdin, 4096):  # EOF: the testbed that started us is gone
            loop.remove_reader(stdin)
            stop.set()

    loop.add_reader(stdin, on_input)
    try:
        async with AsyncExitStack() as stack:
            ready = await start(spec, stack)
            sys.stdout.write(orjson.dumps(ready).decode() + "\n")
            sys.stdout.flush()
            await stop.wait()
    finally:
        loop.remove_reader(stdin)


def main(argv: list[str] | None = None) -> int:
    roles = _roles()
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.split("\n\n")[0])
    parser.add_argument("role", choices=sorted(roles))
    parser.add_argument("run_file", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=f"{args.role}: %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(roles[args.role], RunSpec.load(args.run_file)))
    return 0


if __name__ == "__main__":
    # Run the module under its own name, not as __main__: the run file's RunSpec is
    # netvigil.testbed.netns.service.RunSpec, and unpickling must find that very class.
    from netvigil.testbed.netns.service import main as service_main

    raise SystemExit(service_main())
