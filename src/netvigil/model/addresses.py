"""Facts about IP addresses that every layer needs: the probe, the analysis and the testbed.

Kept in model/ (the bottom of the data flow) so that the probe can tell a bogon
answer without importing the analysis.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache


@lru_cache(maxsize=65536)
def is_bogon(address: str) -> bool:
    """Private, loopback, link-local, reserved or otherwise non-routable addresses."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    return not ip.is_global
