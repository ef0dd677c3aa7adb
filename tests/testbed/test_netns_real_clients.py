"""Namespace mode seen by the real clients ``dig`` and ``curl``, run inside a client's namespace.

The commands are the ones ``testbed up --mode netns`` prints.  Each
interference comes from the router's packet rules or the censor's
responders, so these are the errors a person at that vantage point would
see.  Also: a regional shutdown, the bandwidth cap, and that nothing leads
out of the namespaces.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Awaitable, Callable

import pytest
from netns_support import machine_state, needs_namespaces
from testbed_helpers import REAL_CLIENT_SITES, scenario_from
from testbed_helpers import shell as _shell

from netvigil.testbed.netns.testbed import NamespaceTestbed
from netvigil.testbed.netns.commands import in_namespace, run
from netvigil.testbed.netns.layout import RESOLVER

pytestmark = [needs_namespaces,
              pytest.mark.skipif(not (shutil.which("dig") and shutil.which("curl")),
                                 reason="dig (Debian dnsutils) or curl is not installed")]

SCENARIO = (
    """
[clients.lit]
region = "lit"
time = 2021-04-01T12:00:00Z
[clients.dark]
region = "dark"
time = 2021-04-01T12:00:00Z
"""
    + REAL_CLIENT_SITES
    + """
[sites."slow.example"]
url = "http://slow.example/big.bin"
large_file = 8000000
expect = "throttling"
[[http]]  # shadowed by the blockpage above: the first matching rule decides
host = "blocked.example"
action = "timeout"
[[throttle]]
domain = "slow.example"
rate = "64 KiB/s"
[[shutdown]]
start = 2021-04-01T00:00:00Z
end = 2021-04-02T00:00:00Z
regions = ["dark"]
"""
)
CAP = 64 * 1024


def _commands(bed: NamespaceTestbed, client: str, domain: str) -> tuple[str, str]:
    """The dig and curl command lines ``testbed up --mode netns`` prints for ``client`` and ``domain``."""
    lines = bed.instructions().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"client {client}:"))
    at = next(i for i, line in enumerate(lines) if i > start and line.strip().startswith(f"{domain} (expected"))
    return lines[at + 1].strip(), lines[at + 2].strip()


def with_testbed(check: Callable[[NamespaceTestbed], Awaitable[None]]) -> None:
    async def main() -> None:
        async with NamespaceTestbed(scenario_from(SCENARIO), helper=False) as bed:
            await asyncio.wait_for(check(bed), 60)
    asyncio.run(main())


def test_dig_sees_the_truth_an_nxdomain_and_a_spoofed_answer() -> None:
    async def check(bed: NamespaceTestbed) -> None:
        dig, _ = _commands(bed, "lit", "ok.example")
        assert (await _shell(f"{dig} +short"))[1].strip() == bed.plan.of("ok.example").advertised
        dig, _ = _commands(bed, "lit", "nx.example")
        code, out = await _shell(dig)
        assert code == 0 and "status: NXDOMAIN" in out
        dig, _ = _commands(bed, "lit", "forged.example")
        assert (await _shell(f"{dig} +short"))[1].strip() == "10.10.34.35"
        assert bed.layout is not None  # the resolver itself, from the internet side, tells the truth
        clean = run(in_namespace(bed.layout.internet, ["dig", f"@{RESOLVER}", "+short", "forged.example"]))
        assert clean.strip() == bed.plan.of("forged.example").advertised

    with_testbed(check)


def test_curl_sees_the_page_a_reset_a_blackhole_and_a_blockpage() -> None:
    async def check(bed: NamespaceTestbed) -> None:
        _, curl = _commands(bed, "lit", "ok.example")
        code, out = await _shell(f"{curl} -sS")
        assert code == 0 and "<title>ok.example</title>" in out
        _, curl = _commands(bed, "lit", "reset.example")
        code, out = await _shell(f"{curl} -sS")
        assert code == 35 and "reset by peer" in out  # CURLE_SSL_CONNECT_ERROR, from the router's RST
        _, curl = _commands(bed, "lit", "hole.example")
        code, out = await _shell(f"{curl} -sS --connect-timeout 1.5")
        # CURLE_OPERATION_TIMEDOUT: the SYN was dropped.  curl words it "Failed to connect …
        # timed out" or "Connection timeout after N ms" depending on which timer fires first.
        assert code == 28 and ("Failed to connect" in out or "Connection timeout" in out), out
        _, curl = _commands(bed, "lit", "blocked.example")
        code, out = await _shell(f"{curl} -sS -i")
        assert code == 0 and out.startswith("HTTP/1.1 451") and "restricted by the regulator" in out

    with_testbed(check)


def test_curl_follows_a_spoofed_answer_to_the_national_blockpage_and_never_falls_back() -> None:
    async def check(bed: NamespaceTestbed) -> None:
        _, curl = _commands(bed, "lit", "forged.example")
        code, out = await _shell(f"{curl} -sS")
        assert code == 0 and 'iframe src="http://10.10.34.34' in out
        _, curl = _commands(bed, "lit", "nx.example")
        code, out = await _shell(f"{curl} -sS")
        assert code == 7  # 0.0.0.0: nothing listens in the client's namespace

    with_testbed(check)


def test_the_bandwidth_cap_holds() -> None:
    async def check(bed: NamespaceTestbed) -> None:
        _, curl = _commands(bed, "lit", "slow.example")
        code, out = await _shell(f"{curl} -s -o /dev/null --max-time 2 -w '%{{size_download}}'")
        assert code == 28  # the 8 MB download cannot finish
        received = int(out.strip())
        assert CAP <= received <= 2 * CAP + 64 * 1024, received

    with_testbed(check)


def test_a_shutdown_silences_only_its_region() -> None:
    async def check(bed: NamespaceTestbed) -> None:
        dig, curl = _commands(bed, "dark", "ok.example")
        code, out = await _shell(f"{dig} +time=1 +tries=1")
        assert code == 9 and "timed out" in out  # no reply from the resolver
        code, _ = await _shell(f"ip netns exec {bed.namespace('dark')} curl -sS --connect-timeout 1 "
                               f"--resolve ok.example:443:{bed.plan.of('ok.example').advertised} "
                               f"--cacert {bed.ca_file} https://ok.example/")
        assert code == 28
        _, curl = _commands(bed, "lit", "ok.example")
        assert (await _shell(f"{curl} -sS"))[0] == 0

    with_testbed(check)


def test_nothing_leads_out_of_the_namespaces() -> None:
    """Only clients have a default route, via the router; the router and the internet have none."""
    before = machine_state(os.getpid())

    async def check(bed: NamespaceTestbed) -> None:
        assert bed.layout is not None
        assert machine_state(os.getpid()).links == before.links  # nothing was added to the machine's own namespace
        for namespace in (bed.layout.router, bed.layout.internet):
            assert "default" not in run(["ip", "-n", namespace, "route", "show", "table", "all"])
        client = bed.namespace("lit")
        code, out = await _shell(f"ip netns exec {client} curl -sS --connect-timeout 2 http://192.0.2.1/")
        assert code == 7, out  # the router has no route there: unreachable at once

    with_testbed(check)
