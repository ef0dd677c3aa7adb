"""The real clients ``dig`` and ``curl`` see the censorship, as ``testbed up`` tells them to look.

Needs the Debian packages ``dnsutils`` (dig) and ``curl``; skipped only when
they are missing.
"""

from __future__ import annotations

import asyncio
import shutil

import pytest
from testbed_helpers import REAL_CLIENT_SITES, scenario_from
from testbed_helpers import shell as _shell

from netvigil.cli.testbed import instructions
from netvigil.testbed.loopback.testbed import LoopbackTestbed

pytestmark = pytest.mark.skipif(not (shutil.which("dig") and shutil.which("curl")),
                                reason="dig (Debian dnsutils) or curl is not installed")

SCENARIO = REAL_CLIENT_SITES


def _commands(bed: LoopbackTestbed, domain: str) -> tuple[str, str]:
    """The dig and curl command lines ``testbed up`` prints for ``domain``."""
    lines = instructions(bed.scenario, bed).splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith(f"{domain} (expected"))
    return lines[at + 1].strip(), lines[at + 2].strip()


def run(check) -> None:
    async def main() -> None:
        async with LoopbackTestbed(scenario_from(SCENARIO), helper=False) as bed:
            await asyncio.wait_for(check(bed), 30)
    asyncio.run(main())


def test_dig_sees_the_truth_an_nxdomain_and_a_spoofed_answer() -> None:
    async def check(bed: LoopbackTestbed) -> None:
        dig, _ = _commands(bed, "ok.example")
        assert (await _shell(f"{dig} +short"))[1].strip() == bed.plan.of("ok.example").advertised
        dig, _ = _commands(bed, "nx.example")
        code, out = await _shell(dig)
        assert code == 0 and "status: NXDOMAIN" in out
        dig, _ = _commands(bed, "forged.example")
        assert (await _shell(f"{dig} +short"))[1].strip() == "10.10.34.35"
        assert bed.clean_dns is not None
        clean = f"dig @127.0.0.1 -p {bed.clean_dns.port} +short forged.example"
        assert (await _shell(clean))[1].strip() == bed.plan.of("forged.example").advertised

    run(check)


def test_curl_sees_the_page_a_reset_a_blackhole_and_a_blockpage() -> None:
    async def check(bed: LoopbackTestbed) -> None:
        _, curl = _commands(bed, "ok.example")
        code, out = await _shell(f"{curl} -sS")
        assert code == 0 and "<title>ok.example</title>" in out
        _, curl = _commands(bed, "reset.example")
        code, out = await _shell(f"{curl} -sS")
        assert code == 35 and "reset by peer" in out  # CURLE_SSL_CONNECT_ERROR, from the RST
        _, curl = _commands(bed, "hole.example")
        code, out = await _shell(f"{curl} -sS --connect-timeout 1.5")
        assert code == 28 and "timed out" in out  # CURLE_OPERATION_TIMEDOUT
        _, curl = _commands(bed, "blocked.example")
        code, out = await _shell(f"{curl} -sS -i")
        assert code == 0 and out.startswith("HTTP/1.1 451") and "restricted by the regulator" in out

    run(check)


def test_curl_follows_a_spoofed_answer_to_the_national_blockpage() -> None:
    async def check(bed: LoopbackTestbed) -> None:
        _, curl = _commands(bed, "forged.example")
        code, out = await _shell(f"{curl} -sS")
        assert code == 0 and 'iframe src="http://10.10.34.34' in out

    run(check)


def test_curl_never_falls_back_to_the_system_resolver_when_dns_is_censored() -> None:
    async def check(bed: LoopbackTestbed) -> None:
        _, curl = _commands(bed, "nx.example")
        code, out = await _shell(f"{curl} -sS")
        assert code == 97 and "SOCKS5" in out  # CURLE_PROXY: the middle found 0.0.0.0 unreachable

    run(check)
