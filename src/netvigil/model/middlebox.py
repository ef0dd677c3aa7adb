"""Typed test keys of the middlebox tests: http_header_field_manipulation (ts-006)
and http_invalid_request_line (ts-007).

ts-006 sends requests with oddly capitalised header names to a helper that
echoes, as a JSON body, the headers it received; header names keep their case
here (unlike :func:`netvigil.model.body.decode_headers`) because case is the
signal.  ts-007 sends invalid request lines to an echo helper and records
``sent`` and ``received`` side by side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from netvigil.failures import normalize_failure
from netvigil.model.body import body_text, decode_body
from netvigil.model.errors import BadRecord
from netvigil.model.steps import obj, opt_bool

Header = tuple[str, str]


@dataclass(frozen=True, slots=True)
class HeaderExchange:
    """One ts-006 request and what the helper says it received."""

    url: str
    method: str
    sent: tuple[Header, ...]
    failure: str | None
    received: tuple[Header, ...] | None  # None: no usable echo from the helper
    received_request_line: str | None
    echo_error: str | None  # why the response is not a usable echo


@dataclass(frozen=True, slots=True)
class HeaderManipulationKeys:
    exchanges: tuple[HeaderExchange, ...]
    probe_tampering: dict[str, Any]  # the probe's own ``tampering`` object


@dataclass(frozen=True, slots=True)
class RequestLineKeys:
    sent: tuple[str, ...]
    received: tuple[str, ...]
    failures: tuple[str | None, ...]
    probe_tampering: bool | None


def parse_header_manipulation(tk: dict[str, Any]) -> HeaderManipulationKeys:
    raw = tk.get("requests")
    if raw is not None and not isinstance(raw, list):
        raise BadRecord("test_keys.requests is not a list")
    tampering = tk.get("tampering")
    return HeaderManipulationKeys(tuple(_exchange(r) for r in raw or []),
                                  tampering if isinstance(tampering, dict) else {})


def _exchange(raw: Any) -> HeaderExchange:
    r = obj(raw, "a requests entry")
    request, response = obj(r.get("request"), "requests[].request"), r.get("response")
    received, line, error = None, None, None
    if not isinstance(response, dict):
        error = "no response"
    else:
        text = body_text(decode_body(response.get("body")))
        try:
            echo = json.loads(text) if text else None
        except ValueError:
            echo = None
        if not isinstance(echo, dict) or not isinstance(echo.get("headers_dict"), dict):
            error = "the response is not the helper's JSON echo"
        else:
            received = _pairs(echo["headers_dict"])
            line = echo.get("request_line") if isinstance(echo.get("request_line"), str) else None
    url, method = request.get("url"), request.get("method")
    return HeaderExchange(
        url=url if isinstance(url, str) else "",
        method=method if isinstance(method, str) else "",
        sent=_pairs(request.get("headers"), request.get("headers_list")),
        failure=normalize_failure(r.get("failure")),
        received=received, received_request_line=line, echo_error=error,
    )


def _pairs(headers: Any, headers_list: Any = None) -> tuple[Header, ...]:
    """Header pairs with the names' case kept; list values become one pair each."""
    out: list[Header] = []
    if isinstance(headers_list, list):
        for item in headers_list:
            if isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):
                out.append((item[0], str(item[1])))
        return tuple(out)
    if isinstance(headers, dict):
        for name, value in headers.items():
            for v in value if isinstance(value, list) else [value]:
                out.append((str(name), "" if v is None else str(v)))
    return tuple(out)


def parse_request_line(tk: dict[str, Any]) -> RequestLineKeys:
    sent, received = tk.get("sent"), tk.get("received")
    for key, value in (("sent", sent), ("received", received)):
        if value is not None and not isinstance(value, list):
            raise BadRecord(f"test_keys.{key} is not a list")
    failures = tk.get("failure_list")
    return RequestLineKeys(
        sent=tuple(s if isinstance(s, str) else "" for s in sent or []),
        received=tuple(s if isinstance(s, str) else "" for s in received or []),
        failures=tuple(normalize_failure(f) for f in failures) if isinstance(failures, list) else (),
        probe_tampering=opt_bool(tk.get("tampering")),
    )
