"""Typed test keys of dnscheck (ts-028), stunreachability (ts-025) and urlgetter (ts-027).

urlgetter is the building block: its keys are df-00x steps plus a top-level
``failure`` and ``failed_operation``.  dnscheck keeps one urlgetter result for
bootstrapping the resolver's name and one per resolver endpoint in ``lookups``.
stunreachability records the STUN endpoint, a failure and its steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netvigil.failures import normalize_failure
from netvigil.model.steps import Steps, obj, opt_str, parse_steps


@dataclass(frozen=True, slots=True)
class DNSCheckKeys:
    domain: str
    bootstrap: Steps | None
    bootstrap_failure: str | None
    lookups: dict[str, Steps]  # resolver endpoint -> its urlgetter result


@dataclass(frozen=True, slots=True)
class StunKeys:
    endpoint: str | None
    failure: str | None
    steps: Steps


def parse_urlgetter(tk: dict[str, Any]) -> Steps:
    return parse_steps(tk)


def parse_dnscheck(tk: dict[str, Any]) -> DNSCheckKeys:
    boot = tk.get("bootstrap")
    lookups = obj(tk.get("lookups"), "test_keys.lookups")
    return DNSCheckKeys(
        domain=opt_str(tk.get("domain")) or "",
        bootstrap=parse_steps(boot, where="test_keys.bootstrap") if isinstance(boot, dict) else None,
        bootstrap_failure=normalize_failure(tk.get("bootstrap_failure")),
        lookups={str(k): parse_steps(v, where=f"lookup {k}") for k, v in lookups.items() if isinstance(v, dict)},
    )


def parse_stun(tk: dict[str, Any]) -> StunKeys:
    return StunKeys(endpoint=opt_str(tk.get("endpoint")), failure=normalize_failure(tk.get("failure")),
                    steps=parse_steps(tk))


@dataclass(frozen=True, slots=True)
class BrowserWebKeys:
    """browser_web (ooniprobe-web): a page load in the user's browser, no network steps."""

    result: str | None  # "ok" or "error"
    load_time_ms: float | None
    browser_name: str | None


def parse_browser_web(tk: dict[str, Any]) -> BrowserWebKeys:
    load = tk.get("load_time_ms")
    return BrowserWebKeys(result=opt_str(tk.get("result")),
                          load_time_ms=float(load) if isinstance(load, (int, float)) and not isinstance(load, bool)
                          else None,
                          browser_name=opt_str(tk.get("browser_name")))
