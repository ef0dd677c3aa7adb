"""A store for the explorer's tests: the shared seed plus measurements with a known story.

- twitter.com in Uganda: measured ok on AS20294 from 1 to 4 October 2026, then blocked
  every day from 5 October (AS20294 by TLS reset, AS37075 by DNS NXDOMAIN);
- Iran: AS197207 and AS58224 block by DNS, AS16322 only by HTTP (never by DNS);
- twitter.com measured from an unknown country (ZZ), ok.

Each measurement is a synthetic one of the right ground truth with its host, country,
network and time rewritten, so the analysis decides its verdict as for any other.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from observatory_helpers import seed, xss_measurement

from netvigil.testbed.synthetic import generate

UG_SINCE = datetime(2026, 10, 5, 8)
IR_DNS_NETWORKS = ("AS197207", "AS58224")
IR_HTTP_ONLY = "AS16322"


@cache
def _bases() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for g in generate(400, seed=11, max_body=2_000):
        found.setdefault(g.technique.value, g.measurement)
    return found


def variant(technique: str, host: str, cc: str, asn: str, when: datetime) -> dict[str, Any]:
    """A synthetic measurement of ``technique`` moved to ``host``, ``cc``, ``asn`` and ``when``."""
    base = _bases()[technique]
    old = base["input"].split("/")[2]
    m = orjson.loads(orjson.dumps(base).replace(old.encode(), host.encode()))
    m["probe_cc"], m["probe_asn"], m["resolver_asn"] = cc, asn, asn
    m["measurement_start_time"] = m["test_start_time"] = when.strftime("%Y-%m-%d %H:%M:%S")
    m["report_id"] = f"{when:%Y%m%dT%H%M%SZ}_webconnectivity_{cc}_{asn[2:]}_n1_explorer"
    return m


def story() -> list[dict[str, Any]]:
    day = timedelta(days=1)
    out = [variant("ok", "twitter.com", "UG", "AS20294", datetime(2026, 10, 1, 8) + i * day) for i in range(4)]
    for i in range(20):
        out.append(variant("tls.reset", "twitter.com", "UG", "AS20294", UG_SINCE + i * day))
        out.append(variant("dns.nxdomain", "twitter.com", "UG", "AS37075", UG_SINCE + i * day + timedelta(hours=3)))
    start = datetime(2026, 10, 6, 12)
    for i in range(6):
        out.append(variant("dns.bogon", "www.instagram.com", "IR", IR_DNS_NETWORKS[0], start + i * day))
        out.append(variant("dns.nxdomain", "twitter.com", "IR", IR_DNS_NETWORKS[1], start + i * day))
        out.append(variant("http.diff", "www.bbc.com", "IR", IR_HTTP_ONLY, start + i * day))
        out.append(variant("ok", "www.bbc.com", "IR", IR_HTTP_ONLY, start + i * day + timedelta(hours=5)))
    out.append(variant("ok", "twitter.com", "ZZ", "AS0", datetime(2026, 10, 9, 10)))
    return out


def seed_explorer(path: Path) -> None:
    seed(path, extra=(xss_measurement(), *story()))
