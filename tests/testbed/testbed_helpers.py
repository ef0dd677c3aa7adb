"""Raw clients for testbed tests: SOCKS5, DNS over UDP, a ClientHello; scenarios from text."""

from __future__ import annotations

import asyncio
import socket
import ssl

import dns.message

from netvigil.testbed.scenarios.scenario import Scenario
from netvigil.testbed.scenarios.load import parse_scenario


def scenario_from(text: str) -> Scenario:
    """A scenario from TOML text, with a default [scenario] head prepended."""
    return parse_scenario('[scenario]\nname = "t"\ndescription = "test"\n' + text, source="test.toml")


async def socks_connect(endpoint: str, ip: str, port: int, *, timeout: float = 2.0
                        ) -> tuple[int | None, asyncio.StreamReader, asyncio.StreamWriter]:
    """SOCKS5 CONNECT through ``endpoint``; the reply code, or None if no reply came in time."""
    host, _, proxy_port = endpoint.rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(proxy_port))
    writer.write(b"\x05\x01\x00")
    assert await reader.readexactly(2) == b"\x05\x00"
    writer.write(b"\x05\x01\x00\x01" + socket.inet_aton(ip) + port.to_bytes(2, "big"))
    try:
        reply = await asyncio.wait_for(reader.readexactly(10), timeout)
    except TimeoutError:
        return None, reader, writer
    return reply[1], reader, writer


def client_hello(server_name: str) -> bytes:
    """The ClientHello Python's ssl would send for ``server_name``."""
    context = ssl.create_default_context()
    tls = context.wrap_bio(ssl.MemoryBIO(), outgoing := ssl.MemoryBIO(), server_hostname=server_name)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        return outgoing.read()
    raise AssertionError("a handshake cannot complete without a server")


async def dns_query(resolver: str, name: str, *, timeout: float = 1.0,
                    count: int = 1) -> list[dns.message.Message]:
    """Send one A query over UDP; the replies received within ``timeout`` (at most ``count``)."""
    host, _, port = resolver.removeprefix("udp://").rpartition(":")
    loop = asyncio.get_running_loop()
    replies: asyncio.Queue[bytes] = asyncio.Queue()

    class Receiver(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            replies.put_nowait(data)

    transport, _ = await loop.create_datagram_endpoint(Receiver, remote_addr=(host, int(port)))
    try:
        transport.sendto(dns.message.make_query(name, "A").to_wire())
        got = []
        deadline = loop.time() + timeout
        while len(got) < count and (left := deadline - loop.time()) > 0:
            try:
                got.append(dns.message.from_wire(await asyncio.wait_for(replies.get(), left)))
            except TimeoutError:
                break
        return got
    finally:
        transport.close()


# Sites and rules both real-client tests (loopback and namespace mode) point dig and curl at.
REAL_CLIENT_SITES = """
[sites."ok.example"]
expect = "ok"
[sites."nx.example"]
expect = "dns.nxdomain"
[sites."forged.example"]
url = "http://forged.example/"
expect = "dns.bogon"
[sites."reset.example"]
expect = "tls.reset"
[sites."hole.example"]
expect = "tcp.timeout"
[sites."blocked.example"]
url = "http://blocked.example/"
expect = "http.blockpage"
[hosts.national]
address = "10.10.34.35"
page = "iran"
[pages.iran]
body = '<iframe src="http://10.10.34.34/?type=Invalid Site"></iframe>'
[pages.rkn]
status = 451
title = "Access restricted"
body = "<p>Access to this resource is restricted by the regulator.</p>"
[[dns]]
domain = "nx.example"
action = "nxdomain"
[[dns]]
domain = "forged.example"
action = "forge"
answer = "national"
[[tls]]
sni = "reset.example"
action = "reset"
[[tcp]]
domain = "hole.example"
action = "blackhole"
[[http]]
host = "blocked.example"
action = "blockpage"
page = "rkn"
"""


async def shell(command: str) -> tuple[int, str]:
    """Run a printed instruction as a person would paste it."""
    child = await asyncio.create_subprocess_shell(command, stdout=asyncio.subprocess.PIPE,
                                                  stderr=asyncio.subprocess.STDOUT)
    out, _ = await child.communicate()
    assert child.returncode is not None
    return child.returncode, out.decode("utf-8", "replace")
