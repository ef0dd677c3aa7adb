"""Each censor behaviour at the socket level: the policy, and what a raw client sees.

No probe here: raw sockets speak SOCKS5, send a real ClientHello or a request,
and report what came back, in the words a person would use ("reset", "eof",
"silence", "status 451", ...).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable

import dns.asyncquery
import dns.message
import dns.rcode
import pytest
from testbed_helpers import client_hello, dns_query, scenario_from, socks_connect

from netvigil.testbed.addressing import AddressPlan
from netvigil.testbed.loopback.testbed import LoopbackTestbed
from netvigil.testbed.scenarios.scenario import Scenario

SITES = ["plain", "secure", "blackhole", "refused", "sni-reset", "sni-drop", "intercepted", "blockpage",
         "host-reset", "host-fin", "host-timeout", "throttled", "gone", "expired", "cdn", "nx", "forged",
         "dropped", "injected"]
HTTP_SITES = {"plain", "blockpage", "host-reset", "host-fin", "host-timeout", "throttled"}
EXTRA = {"throttled": "large_file = 4000000", "gone": "down = true", "expired": 'certificate = "expired"',
         "cdn": "challenge = true"}
SILENCE = 1.0  # seconds of quiet that count as "silence"


def _site(name: str) -> str:
    lines = [f'[sites."{name}.example"]', 'expect = "ok"', EXTRA.get(name, "")]
    if name in HTTP_SITES:
        lines.append(f'url = "http://{name}.example/"')
    return "\n".join(lines)


POLICY = "\n".join([
    '[clients.inside]\nregion = "lit"\ntime = 2021-04-01T12:00:00Z',
    '[clients.cutoff]\nregion = "dark"\ntime = 2021-04-01T12:00:00Z',
    *(_site(s) for s in SITES),
]) + """
[hosts.blockpage]
address = "10.10.34.35"
page = "p451"
[hosts.sinkhole]
[pages.p451]
status = 451
title = "Unavailable"
body = "<p>Blocked by order</p>"
[[dns]]
domain = "nx.example"
action = "nxdomain"
[[dns]]
domain = "forged.example"
action = "forge"
answer = "blockpage"
[[dns]]
domain = "dropped.example"
action = "timeout"
[[dns]]
domain = "injected.example"
action = "inject"
answer = "sinkhole"
[[tcp]]
domain = "blackhole.example"
action = "blackhole"
[[tcp]]
domain = "refused.example"
action = "refuse"
[[tls]]
sni = "sni-reset.example"
action = "reset"
[[tls]]
sni = "sni-drop.example"
action = "drop"
[[tls]]
sni = "intercepted.example"
action = "intercept"
[[http]]
host = "blockpage.example"
action = "blockpage"
page = "p451"
[[http]]
host = "host-reset.example"
action = "reset"
[[http]]
host = "host-fin.example"
action = "close"
[[http]]
host = "host-timeout.example"
action = "timeout"
[[throttle]]
domain = "throttled.example"
rate = "64 KiB/s"
[[shutdown]]
start = 2021-04-01T00:00:00Z
end = 2021-04-02T00:00:00Z
regions = ["dark"]
"""


def _scenario() -> Scenario:
    return scenario_from(POLICY)


def with_testbed(check: Callable[[LoopbackTestbed], Awaitable[None]]) -> None:
    async def main() -> None:
        async with LoopbackTestbed(_scenario(), helper=False) as bed:
            await asyncio.wait_for(check(bed), 20)
    asyncio.run(main())


def _request(bed: LoopbackTestbed, domain: str) -> bytes:
    assert bed.ports is not None
    return f"GET / HTTP/1.1\r\nHost: {domain}:{bed.ports.http}\r\nConnection: close\r\n\r\n".encode()


async def _outcome(reader: asyncio.StreamReader) -> str:
    """What came back after the client spoke: reset, eof, silence, or the HTTP status."""
    try:
        data = await asyncio.wait_for(reader.read(65536), SILENCE)
    except ConnectionResetError:
        return "reset"
    except TimeoutError:
        return "silence"
    if not data:
        return "eof"
    if data.startswith(b"HTTP/1.1 "):
        return f"status {data[9:12].decode()}"
    return f"{len(data)} bytes"


async def observe(bed: LoopbackTestbed, domain: str, action: str, client: str = "inside") -> str:
    """Connect through ``client``'s middle to ``domain``'s address and do ``action``."""
    assert bed.ports is not None
    ip = bed.plan.of(domain).advertised
    port = bed.ports.http if action == "get" else bed.ports.https
    code, reader, writer = await socks_connect(bed.endpoints(client).socks5, ip, port, timeout=SILENCE)
    try:
        if code is None:
            return "no SOCKS reply"
        if code != 0:
            return f"SOCKS reply {code}"
        if action == "connect":
            return "connected"
        if action == "hello":
            writer.write(client_hello(domain))
        elif action == "get":
            writer.write(_request(bed, domain))
        else:
            return await _tls(bed, domain, writer, reader)
        return await _outcome(reader)
    finally:
        writer.transport.abort()


async def _tls(bed: LoopbackTestbed, domain: str, writer: asyncio.StreamWriter,
               reader: asyncio.StreamReader) -> str:
    assert bed.ca_file is not None
    context = ssl.create_default_context(cafile=str(bed.ca_file))
    try:
        await writer.start_tls(context, server_hostname=domain)
    except ssl.SSLCertVerificationError as exc:
        return f"certificate refused: {exc.verify_message}"
    writer.write(b"GET / HTTP/1.1\r\nHost: " + domain.encode() + b"\r\nConnection: close\r\n\r\n")
    return await _outcome(reader)


STREAM_TABLE = [
    # (site, what the raw client does, what it sees)
    ("plain.example", "get", "status 200"),
    ("secure.example", "tls", "status 200"),
    ("blackhole.example", "connect", "no SOCKS reply"),
    ("refused.example", "connect", "SOCKS reply 5"),
    ("gone.example", "connect", "SOCKS reply 5"),
    ("sni-reset.example", "hello", "reset"),
    ("sni-drop.example", "hello", "silence"),
    ("intercepted.example", "tls", "certificate refused: unable to get local issuer certificate"),
    ("expired.example", "tls", "certificate refused: certificate has expired"),
    ("blockpage.example", "get", "status 451"),
    ("host-reset.example", "get", "reset"),
    ("host-fin.example", "get", "eof"),
    ("host-timeout.example", "get", "silence"),
    ("cdn.example", "tls", "status 403"),
]


@pytest.mark.parametrize(("domain", "action", "seen"), STREAM_TABLE,
                         ids=[f"{d} {a}" for d, a, _ in STREAM_TABLE])
def test_what_a_raw_client_sees(domain: str, action: str, seen: str) -> None:
    async def check(bed: LoopbackTestbed) -> None:
        assert await observe(bed, domain, action) == seen

    with_testbed(check)


def test_a_shutdown_silences_only_its_region() -> None:
    async def check(bed: LoopbackTestbed) -> None:
        assert await observe(bed, "plain.example", "connect", client="cutoff") == "no SOCKS reply"
        assert await dns_query(bed.endpoints("cutoff").resolver, "plain.example") == []
        assert await observe(bed, "plain.example", "get", client="inside") == "status 200"

    with_testbed(check)


def test_the_middle_never_routes_outside_the_plan() -> None:
    async def check(bed: LoopbackTestbed) -> None:
        for ip in ("192.0.2.77", "127.0.0.1", "10.0.0.1"):
            code, _, writer = await socks_connect(bed.endpoints("inside").socks5, ip, 80)
            writer.transport.abort()
            assert code == 4, ip  # host unreachable: nothing outside the plan is dialled

    with_testbed(check)


def test_the_cdn_challenge_is_for_the_probes_network_only() -> None:
    async def check(bed: LoopbackTestbed) -> None:
        assert bed.ports is not None and bed.ca_file is not None
        context = ssl.create_default_context(cafile=str(bed.ca_file))
        reader, writer = await asyncio.open_connection(bed.plan.of("cdn.example").bound, bed.ports.https,
                                                       ssl=context, server_hostname="cdn.example")
        writer.write(b"GET / HTTP/1.1\r\nHost: cdn.example\r\n\r\n")
        assert await _outcome(reader) == "status 200"
        writer.close()

    with_testbed(check)


def test_throttling_caps_the_download_rate() -> None:
    async def check(bed: LoopbackTestbed) -> None:
        assert bed.ports is not None
        ip = bed.plan.of("throttled.example").advertised
        code, reader, writer = await socks_connect(bed.endpoints("inside").socks5, ip, bed.ports.http)
        assert code == 0
        writer.write(_request(bed, "throttled.example"))
        received = 0
        loop = asyncio.get_running_loop()
        start = loop.time()
        while loop.time() - start < 1.5:
            received += len(await reader.read(65536))
        writer.transport.abort()
        assert 64 * 1024 <= received <= 64 * 1024 * 1.5 + 16 * 1024, received

    with_testbed(check)


DNS_TABLE = [
    # (name, what the censored resolver sends back)
    ("plain.example", ["A 93.184.215.10"]),
    ("nx.example", ["NXDOMAIN"]),
    ("forged.example", ["A 10.10.34.35"]),
    ("dropped.example", []),
    ("injected.example", ["A sinkhole", "A truth"]),
    ("unknown.example", ["NXDOMAIN"]),
]


def _describe(reply: dns.message.Message, plan: AddressPlan) -> str:
    if reply.rcode() != dns.rcode.NOERROR:
        return dns.rcode.to_text(reply.rcode())
    address = reply.answer[0][0].address
    names = {plan.of("sinkhole").advertised: "sinkhole", plan.of("injected.example").advertised: "truth"}
    return f"A {names.get(address, address)}"


@pytest.mark.parametrize(("name", "replies"), DNS_TABLE, ids=[n for n, _ in DNS_TABLE])
def test_what_the_censored_resolver_answers(name: str, replies: list[str]) -> None:
    async def check(bed: LoopbackTestbed) -> None:
        got = await dns_query(bed.endpoints("inside").resolver, name, timeout=SILENCE, count=3)
        assert [_describe(r, bed.plan) for r in got] == replies

    with_testbed(check)


def test_the_clean_resolver_tells_the_truth_and_tcp_works_too() -> None:
    async def check(bed: LoopbackTestbed) -> None:
        assert bed.clean_dns is not None
        truth = await dns_query(bed.clean_dns.url, "nx.example")
        assert _describe(truth[0], bed.plan) == f"A {bed.plan.of('nx.example').advertised}"
        host, _, port = bed.endpoints("inside").resolver.removeprefix("udp://").rpartition(":")
        over_tcp = await dns.asyncquery.tcp(dns.message.make_query("nx.example", "A"), host, port=int(port),
                                            timeout=2)
        assert over_tcp.rcode() == dns.rcode.NXDOMAIN

    with_testbed(check)


def test_only_the_inside_reaches_fixed_private_hosts() -> None:
    plan = AddressPlan(_scenario())
    bound = plan.of("blockpage").bound
    assert plan.route("10.10.34.35", 80, inside=True) == (bound, 80)
    assert plan.route("10.10.34.35", 80, inside=False) is None
    site = plan.of("plain.example")
    assert plan.route(site.advertised, 443, inside=False) == (site.bound, 443)
