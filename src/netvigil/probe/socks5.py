"""SOCKS5 CONNECT (RFC 1928, no authentication) to an IP address.

The probe resolves names itself, so the DNS step stays observable; the proxy only
ever sees an address.  Reply codes map to df-007 failures as the probe/testbed
contract specifies.
"""

from __future__ import annotations

import asyncio
import ipaddress

from netvigil.failures import Failure
from netvigil.probe.errors import StepError, unknown

_REPLY_FAILURE = {
    0x03: Failure.NETWORK_UNREACHABLE.value,
    0x04: Failure.HOST_UNREACHABLE.value,
    0x05: Failure.CONNECTION_REFUSED.value,
    0x06: Failure.GENERIC_TIMEOUT_ERROR.value,
}


async def socks5_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ip: str,
                         port: int) -> None:
    """Run the handshake on an open connection to the proxy; raises StepError on refusal."""
    writer.write(b"\x05\x01\x00")
    await writer.drain()
    version, method = await reader.readexactly(2)
    if version != 5 or method != 0:
        raise StepError(unknown(f"socks5: proxy refused no-auth (version {version}, method {method})"))
    address = ipaddress.ip_address(ip)
    atyp = b"\x01" if address.version == 4 else b"\x04"
    writer.write(b"\x05\x01\x00" + atyp + address.packed + port.to_bytes(2, "big"))
    await writer.drain()
    version, reply, _, atyp_reply = await reader.readexactly(4)
    if version != 5:
        raise StepError(unknown(f"socks5: bad reply version {version}"))
    if reply != 0:
        raise StepError(_REPLY_FAILURE.get(reply) or unknown(f"socks5: reply code {reply}"))
    await reader.readexactly(_bound_address_length(atyp_reply, await reader.readexactly(1)) + 2)


def _bound_address_length(atyp: int, first: bytes) -> int:
    """Bytes left of BND.ADDR after its first byte (already read)."""
    if atyp == 1:
        return 3
    if atyp == 4:
        return 15
    if atyp == 3:
        return first[0]
    raise StepError(unknown(f"socks5: bad address type {atyp}"))
