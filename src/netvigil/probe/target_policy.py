"""Which addresses a test helper may connect to: it must not be an SSRF or port-scan oracle.

A helper connects wherever its clients ask (the URL, the names it resolves, the
redirects, the ``tcp_connect`` list), so without a policy anyone could have it
fetch ``http://127.0.0.1:PORT/`` or probe the helper's own network and read the
answer.  :class:`TargetPolicy` refuses, before any packet is sent, every address
that is not public -- loopback, private, shared (CGNAT), link-local (the cloud
metadata address), unspecified, multicast, reserved, IPv4-mapped forms of those
-- and every address of the helper's own machine.  The refusal is the same
whether a port is open or closed, so it tells nothing.  Testbeds, whose whole
network is private or loopback, start the helper with ``allow_private=True``
(``netvigil helper --allow-private-targets``).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

from netvigil.probe.errors import unknown

NOT_PUBLIC = "refused by the helper's policy: not a public address"
OWN = "refused by the helper's policy: an address of the helper's own machine"


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    allow_private: bool = False

    def refusal(self, ip: str) -> str | None:
        """The recorded failure for connecting to ``ip``, or None when the helper may."""
        if self.allow_private:
            return None
        try:
            address = ipaddress.ip_address(ip.split("%", 1)[0])
        except ValueError:
            return unknown(NOT_PUBLIC)
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            return unknown(NOT_PUBLIC)
        if is_own_address(str(address)):
            return unknown(OWN)
        return None


def is_own_address(ip: str) -> bool:
    """Whether ``ip`` belongs to this machine: the kernel lets a socket bind only to its own addresses."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((ip, 0))
        except OSError:
            return False
    return True
