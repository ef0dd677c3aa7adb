"""Typed test keys of the instant-messaging tests (ts-018 whatsapp, ts-019
facebook_messenger, ts-020 telegram, ts-029 signal).

All four record df-00x steps (see :mod:`netvigil.model.steps`) plus the probe's
own conclusions (``whatsapp_web_status``, ``telegram_tcp_blocking``, …).  The
analysis judges the steps; the probe's conclusions are kept as evidence only,
since several were wrong for years (WhatsApp's web page stopped redirecting in
2022; Signal's pinned CA, probe#2627).  Facebook's keys used dashes up to 0.3.0
and underscores since 0.4.0; both read as underscores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netvigil.failures import normalize_failure
from netvigil.model.steps import Steps, parse_steps

IM_TEST_NAMES = frozenset({"whatsapp", "telegram", "facebook_messenger", "signal"})

# The probe's own conclusions, per test (kept as evidence, never decisive).
STATUS_KEYS: dict[str, tuple[str, ...]] = {
    "whatsapp": ("registration_server_status", "registration_server_failure", "whatsapp_endpoints_status",
                 "whatsapp_web_status", "whatsapp_web_failure"),
    "telegram": ("telegram_tcp_blocking", "telegram_http_blocking", "telegram_web_status", "telegram_web_failure"),
    "signal": ("signal_backend_status", "signal_backend_failure"),
    "facebook_messenger": ("facebook_tcp_blocking", "facebook_dns_blocking"),
}
FACEBOOK_SERVICES = ("b_api", "b_graph", "edge", "external_cdn", "scontent_cdn", "star", "stun")


@dataclass(frozen=True, slots=True)
class IMKeys:
    test_name: str
    steps: Steps
    probe_status: dict[str, Any]  # str | bool | None values, by key
    whatsapp_endpoints_blocked: tuple[str, ...] = ()
    facebook_dns_consistent: dict[str, bool | None] | None = None  # service -> probe's own DNS check
    facebook_reachable: dict[str, bool | None] | None = None


def parse_im(test_name: str, tk: dict[str, Any]) -> IMKeys:
    """Parse the test keys of one IM test (raises BadRecord on wrong JSON types)."""
    if test_name == "facebook_messenger":
        tk = {k.replace("-", "_"): v for k, v in tk.items()}
    status = {}
    for key in STATUS_KEYS.get(test_name, ()):
        value = tk.get(key)
        status[key] = normalize_failure(value) if key.endswith("_failure") else _scalar(value)
    blocked = tk.get("whatsapp_endpoints_blocked")
    fb_dns = fb_reach = None
    if test_name == "facebook_messenger":
        fb_dns = {s: _bool(tk.get(f"facebook_{s}_dns_consistent")) for s in FACEBOOK_SERVICES}
        fb_reach = {s: _bool(tk.get(f"facebook_{s}_reachable")) for s in FACEBOOK_SERVICES}
    return IMKeys(
        test_name=test_name,
        steps=parse_steps(tk),
        probe_status={k: v for k, v in status.items() if v is not None},
        whatsapp_endpoints_blocked=tuple(b for b in blocked if isinstance(b, str)) if isinstance(blocked, list) else (),
        facebook_dns_consistent=fb_dns,
        facebook_reachable=fb_reach,
    )


def _scalar(value: Any) -> Any:
    return value if isinstance(value, (str, bool)) else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None
