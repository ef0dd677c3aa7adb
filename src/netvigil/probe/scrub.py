"""Remove the probe's public addresses from a measurement (df-000: probe_ip "127.0.0.1").

A page or a header can echo the visitor's address ("Your IP is ..."), and so can
an error message; published measurements must not identify the volunteer.  The
scrubber replaces each known address everywhere in the JSON text (keys too),
and in binary bodies before they are base64-encoded (see :mod:`archival`).
Matches are whole addresses only, so "1.2.3.4" leaves "11.2.3.45" alone.
Only public (globally routable) addresses are scrubbed: a loopback or private
address identifies no one, and scrubbing 127.0.0.1 would erase the df-000
placeholder itself.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from netvigil.probe.errors import SCRUBBED


class Scrubber:
    def __init__(self, addresses: set[str] | frozenset[str] = frozenset()) -> None:
        found = sorted({a for a in addresses if _is_public(a)}, key=len, reverse=True)
        alternatives = "|".join(re.escape(a) for a in found)
        # Not preceded or followed by another address character (hex digit, dot, colon).
        pattern = rf"(?<![0-9A-Za-z.:])(?:{alternatives})(?![0-9A-Za-z:]|\.\d)"
        self._text = re.compile(pattern) if found else None
        self._bytes = re.compile(pattern.encode("ascii")) if found else None

    def __bool__(self) -> bool:
        return self._text is not None

    def scrub_text(self, text: str) -> str:
        return self._text.sub(SCRUBBED, text) if self._text is not None else text

    def scrub_bytes(self, data: bytes) -> bytes:
        return self._bytes.sub(SCRUBBED.encode("ascii"), data) if self._bytes is not None else data

    def scrub(self, value: Any) -> Any:
        """A copy of a JSON value with every string scrubbed."""
        if self._text is None:
            return value
        if isinstance(value, str):
            return self.scrub_text(value)
        if isinstance(value, dict):
            return {self.scrub_text(k): self.scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        return value


def _is_public(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_global
    except ValueError:
        return False
