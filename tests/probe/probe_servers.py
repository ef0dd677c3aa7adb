"""Loopback servers for the probe's tests and benchmark: real sockets, scripted misbehaviour.

Everything listens on 127.0.0.1 with a kernel-chosen port and lives inside the
test's event loop (or the benchmark's server process).  Certificates are minted
with ``cryptography`` on the fly.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

StreamHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


# --- DNS ---------------------------------------------------------------------------------


@dataclass
class FakeDNS(asyncio.DatagramProtocol):
    """Answers A queries from ``records``; ``behaviour[name]`` scripts a misbehaviour:
    "nxdomain", "servfail", "refused", "garbage", "wrong_id", "silent", "truncated"."""

    records: dict[str, list[str]] = field(default_factory=dict)
    behaviour: dict[str, str] = field(default_factory=dict)
    transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        reply = self.reply(data)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)

    def reply(self, data: bytes) -> bytes | None:
        query = dns.message.from_wire(data)
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True)
        mode = self.behaviour.get(name, "")
        if mode == "silent":
            return None
        if mode == "garbage":
            return data[:2] + b"\xde\xad\xbe\xef"
        response = dns.message.make_response(query)
        if mode in ("nxdomain", "servfail", "refused"):
            response.set_rcode({"nxdomain": dns.rcode.NXDOMAIN, "servfail": dns.rcode.SERVFAIL,
                                "refused": dns.rcode.REFUSED}[mode])
        elif name not in self.records:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.A:
            response.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", *self.records[name]))
        if mode == "truncated":
            response.flags |= dns.flags.TC
        wire = response.to_wire()
        if mode == "wrong_id":
            wire = struct.pack("!H", (query.id + 1) % 65536) + wire[2:]
        return wire

    @property
    def address(self) -> str:
        host, port = self.transport.get_extra_info("sockname")[:2]
        return f"udp://{host}:{port}"


async def start_dns(records: dict[str, list[str]], behaviour: dict[str, str] | None = None) -> FakeDNS:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_datagram_endpoint(
        lambda: FakeDNS(dict(records), dict(behaviour or {})), local_addr=("127.0.0.1", 0))
    return protocol


# --- TCP servers -------------------------------------------------------------------------


async def start_tcp(handler: StreamHandler, *, host: str = "127.0.0.1",
                    ssl_context: ssl.SSLContext | None = None) -> asyncio.Server:
    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, TimeoutError, asyncio.CancelledError):
            pass  # the probe hung up or timed out first, or the test ended: expected here
        finally:
            writer.close()  # flushes what is buffered, then FIN (a no-op after reset())

    return await asyncio.start_server(guarded, host, 0, ssl=ssl_context)


def port_of(server: asyncio.Server) -> int:
    return server.sockets[0].getsockname()[1]


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def refused_port() -> int:
    """A port with nothing listening (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def read_head(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


def http_response(body: bytes, *, status: str = "200 OK", headers: tuple[str, ...] = (),
                  title: str | None = None) -> bytes:
    head = [f"HTTP/1.1 {status}", "Content-Type: text/html; charset=utf-8", *headers,
            f"Content-Length: {len(body)}", "Connection: close"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def page(title: str, size: int = 2000) -> bytes:
    text = ("<html><head><title>" + title + "</title></head><body><p>"
            + "lorem ipsum " * (size // 12) + "</p></body></html>")
    return text.encode()


def serve_bytes(data: bytes) -> StreamHandler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(data)
        await writer.drain()

    return handler


# --- certificates ------------------------------------------------------------------------


@dataclass(frozen=True)
class CA:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(common_name: str = "netvigil test CA") -> CA:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return CA(key, cert)


def server_context(ca: CA, names: list[str], tmp: Path, *, self_signed: bool = False) -> ssl.SSLContext:
    """A server context whose certificate covers ``names`` (DNS names or IPs)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    sans = [x509.IPAddress(ipaddress.ip_address(n)) if _is_ip(n) else x509.DNSName(n) for n in names]
    issuer_key, issuer = (key, _name(names[0])) if self_signed else (ca.key, ca.cert.subject)
    cert = (x509.CertificateBuilder().subject_name(_name(names[0])).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .sign(issuer_key, hashes.SHA256()))
    chain = cert.public_bytes(serialization.Encoding.PEM) + (b"" if self_signed else ca.pem())
    cert_path, key_path = tmp / f"{names[0]}-{cert.serial_number}.pem", tmp / f"{names[0]}-{cert.serial_number}.key"
    cert_path.write_bytes(chain)
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


# --- SOCKS5 ------------------------------------------------------------------------------


async def start_socks5(*, refuse: int | None = None) -> asyncio.Server:
    """A relay: CONNECT to IPv4/IPv6 targets; ``refuse`` answers every CONNECT with that code."""
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _, n_methods = await reader.readexactly(2)
        await reader.readexactly(n_methods)
        writer.write(b"\x05\x00")
        _, _, _, atyp = await reader.readexactly(4)
        raw = await reader.readexactly(4 if atyp == 1 else 16)
        port = int.from_bytes(await reader.readexactly(2), "big")
        if refuse is not None:
            writer.write(bytes([5, refuse, 0, 1]) + b"\0" * 6)
            await writer.drain()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(str(ipaddress.ip_address(raw)), port)
        except ConnectionRefusedError:
            writer.write(b"\x05\x05\x00\x01" + b"\0" * 6)
            await writer.drain()
            return
        writer.write(b"\x05\x00\x00\x01" + b"\0" * 6)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    return await start_tcp(handler)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


def routes(respond: Callable[[str, dict[str, str]], bytes]) -> StreamHandler:
    """An origin whose response depends on the request path and headers."""
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await read_head(reader)).decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
        writer.write(respond(head[0].split(" ")[1], headers))
        await writer.drain()

    return handler
