"""Typed test keys of the circumvention tests: tor (ts-023), vanilla_tor (ts-016),
torsf (ts-030), psiphon (ts-015) and the legacy meek_fronted_requests_test.

``tor`` measures many targets (relays' OR ports, directory authorities, obfs4
bridges, dir ports), each with its own df-00x steps; the earliest experimental
reports (2020-01) stored ``targets`` as a list, later ones as a map by target id,
and both are read.  The bootstrap tests record how far the tunnel got
(``tor_progress`` 0-100 and its tag); Twisted-era vanilla_tor kept only a
``tor_log`` text, from which success is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from netvigil.failures import normalize_failure
from netvigil.model.errors import BadRecord
from netvigil.model.steps import Steps, obj, opt_bool, opt_float, opt_str, parse_steps

_BOOTSTRAP_RE = re.compile(r"Bootstrapped (\d{1,3})%")


@dataclass(frozen=True, slots=True)
class TorTarget:
    target_id: str
    address: str
    protocol: str  # or_port, or_port_dirauth, obfs4, dir_port
    name: str
    failure: str | None
    ran: bool  # False when the probe did not run this target (failure is JSON false)
    summary: dict[str, str | None]  # operation -> failure (connect, handshake, ...)
    steps: Steps


@dataclass(frozen=True, slots=True)
class TorKeys:
    targets: tuple[TorTarget, ...]
    list_format: bool  # the 2020-01 experimental shape


@dataclass(frozen=True, slots=True)
class BootstrapKeys:
    """vanilla_tor, torsf and psiphon: one tunnel, one bootstrap."""

    test_name: str
    failure: str | None
    success: bool | None
    bootstrap_time: float | None
    progress: int | None  # 0-100, None when not recorded
    progress_tag: str | None
    timeout: float | None
    transport: str | None
    rendezvous_method: str | None
    has_data: bool  # any key about the bootstrap at all


@dataclass(frozen=True, slots=True)
class MeekRequest:
    url: str
    front_host: str
    failure: str | None
    status_code: int | None
    body_start: str


@dataclass(frozen=True, slots=True)
class MeekKeys:
    requests: tuple[MeekRequest, ...]
    success: bool | None
    inputs: tuple[str, ...]


def parse_tor(tk: dict[str, Any]) -> TorKeys:
    raw = tk.get("targets")
    if raw is None:
        return TorKeys((), False)
    if isinstance(raw, list):
        items = [(str(t.get("target_address", i)) if isinstance(t, dict) else str(i), t) for i, t in enumerate(raw)]
        list_format = True
    elif isinstance(raw, dict):
        items, list_format = list(raw.items()), False
    else:
        raise BadRecord(f"test_keys.targets is a JSON {type(raw).__name__}, not a map or list")
    return TorKeys(tuple(_target(tid, t) for tid, t in items), list_format)


def _target(target_id: str, raw: Any) -> TorTarget:
    t = obj(raw, f"tor target {target_id[:20]}")
    failure = t.get("failure")
    summary = obj(t.get("summary"), "a tor target's summary")
    return TorTarget(
        target_id=target_id,
        address=opt_str(t.get("target_address")) or "",
        protocol=opt_str(t.get("target_protocol")) or "",
        name=opt_str(t.get("target_name")) or "",
        failure=None if failure is False else normalize_failure(failure),
        ran=failure is not False,
        summary={str(k): normalize_failure((v or {}).get("failure") if isinstance(v, dict) else v)
                 for k, v in summary.items()},
        steps=parse_steps(t, where="a tor target"),
    )


def parse_bootstrap(test_name: str, tk: dict[str, Any]) -> BootstrapKeys:
    progress = tk.get("tor_progress")
    progress = int(progress) if isinstance(progress, (int, float)) and not isinstance(progress, bool) else None
    failure = normalize_failure(tk.get("failure"))
    success = opt_bool(tk.get("success"))
    log = tk.get("tor_log")
    if isinstance(log, str) and progress is None:  # Twisted-era vanilla_tor
        found = [int(p) for p in _BOOTSTRAP_RE.findall(log)]
        progress = max(found) if found else None
        if success is None and progress is not None:
            success = progress == 100
    known = ("failure", "success", "bootstrap_time", "tor_progress", "tor_log", "error")
    return BootstrapKeys(
        test_name=test_name,
        failure=failure,
        success=success,
        bootstrap_time=opt_float(tk.get("bootstrap_time")),
        progress=progress,
        progress_tag=opt_str(tk.get("tor_progress_tag")),
        timeout=opt_float(tk.get("timeout")) or opt_float(tk.get("max_runtime")),
        transport=opt_str(tk.get("transport_name")),
        rendezvous_method=opt_str(tk.get("rendezvous_method")),
        has_data=any(k in tk for k in known),
    )


def parse_meek(tk: dict[str, Any], input_: Any) -> MeekKeys:
    reqs = []
    raw = tk.get("requests")
    if raw is not None and not isinstance(raw, list):
        raise BadRecord("test_keys.requests is not a list")
    for r in raw or []:
        r = obj(r, "a meek request")
        request, response = obj(r.get("request"), "meek request"), obj(r.get("response"), "meek response")
        code = response.get("code")
        body = response.get("body")
        reqs.append(MeekRequest(
            url=opt_str(request.get("url")) or "",
            front_host=_host_header(request.get("headers")),
            failure=normalize_failure(r.get("failure")),
            status_code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            body_start=body[:200] if isinstance(body, str) else "",
        ))
    inputs = tuple(i for i in input_ if isinstance(i, str)) if isinstance(input_, list) else ()
    return MeekKeys(tuple(reqs), opt_bool(tk.get("success")), inputs)


def _host_header(headers: Any) -> str:
    if isinstance(headers, dict):
        value = headers.get("Host")
        return value if isinstance(value, str) else ""
    if isinstance(headers, list):  # [["Host", ["x"]]] in 2015 reports
        for item in headers:
            if isinstance(item, list) and len(item) == 2 and item[0] == "Host":
                value = item[1][0] if isinstance(item[1], list) and item[1] else item[1]
                return value if isinstance(value, str) else ""
    return ""
