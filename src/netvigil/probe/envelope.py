"""The df-000 envelope around a measurement's test keys."""

from __future__ import annotations

import platform
import secrets
import string
import sys
from datetime import datetime
from functools import lru_cache
from typing import Any

import netvigil

SOFTWARE_NAME = "netvigil"
TEST_NAME = "web_connectivity"
TEST_VERSION = "0.5.0"
DATA_FORMAT_VERSION = "0.2.0"
SCRUBBED_IP = "127.0.0.1"  # df-000: the probe's address, withheld
# Sub-formats present in test_keys (df-000 "extensions": name -> version).
EXTENSIONS = {"dnst": 0, "httpt": 0, "netevents": 0, "tcpconnect": 0, "tlshandshake": 0}
_ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i686": "386"}
_PLATFORMS = {"linux": "linux", "darwin": "macos", "win32": "windows", "freebsd": "freebsd"}


def utc_stamp(moment: datetime) -> str:
    """df-000 time format, UTC: ``YYYY-MM-DD HH:MM:SS``."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def new_report_id(moment: datetime, *, probe_cc: str, probe_asn: str, test_name: str = TEST_NAME) -> str:
    """An OONI-shaped report id; ours are local (no backend issued them)."""
    suffix = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16))
    asn = probe_asn.removeprefix("AS")
    test = test_name.replace("_", "")
    return f"{moment.strftime('%Y%m%dT%H%M%SZ')}_{test}_{probe_cc}_{asn}_n1_{suffix}"


@lru_cache(maxsize=1)
def annotations() -> dict[str, str]:
    return {
        "architecture": _ARCHITECTURES.get(platform.machine().lower(), platform.machine().lower()),
        "engine_name": SOFTWARE_NAME,
        "engine_version": netvigil.__version__,
        "platform": next((v for k, v in _PLATFORMS.items() if sys.platform.startswith(k)), sys.platform),
        "python_version": platform.python_version(),
    }


def envelope(*, url: str, test_keys: dict[str, Any], measurement_start: datetime, test_start: datetime,
             runtime: float, report_id: str, probe_cc: str, probe_asn: str, probe_network_name: str | None,
             resolver_ip: str, test_helper: str | None, test_name: str = TEST_NAME,
             test_version: str = TEST_VERSION) -> dict[str, Any]:
    """Every df-000 field a probe emits; backend-only fields (bucket_date, ...) are left out.

    ``test_name``/``test_version`` default to web_connectivity's; other experiments
    (dnscheck) pass their own so that the envelope is shared, not copied.
    """
    return {
        "annotations": dict(annotations()),
        "data_format_version": DATA_FORMAT_VERSION,
        "extensions": dict(EXTENSIONS),
        "input": url,
        "measurement_start_time": utc_stamp(measurement_start),
        "probe_asn": probe_asn,
        "probe_cc": probe_cc,
        "probe_ip": SCRUBBED_IP,
        "probe_network_name": probe_network_name or "",
        "report_id": report_id,
        "resolver_asn": "AS0",
        "resolver_ip": resolver_ip,
        "resolver_network_name": "",
        "software_name": SOFTWARE_NAME,
        "software_version": netvigil.__version__,
        "test_helpers": _test_helpers(test_helper),
        "test_keys": test_keys,
        "test_name": test_name,
        "test_runtime": round(runtime, 6),
        "test_start_time": utc_stamp(test_start),
        "test_version": test_version,
    }


def _test_helpers(url: str | None) -> dict[str, Any]:
    if not url:
        return {}
    return {"backend": {"address": url, "type": "https" if url.startswith("https") else "http"}}
