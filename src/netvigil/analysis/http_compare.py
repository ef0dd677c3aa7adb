"""Comparing the probe's final HTTP response with the helper's (ts-017 §local processing).

Follows the deployed web_connectivity checks, with their documented fixes: a
truncated body is never compared by length, a 5xx at the helper makes the status
comparison undecided, and titles compare by their long words.
"""

from __future__ import annotations

from netvigil.model.observation import HTTPObservation

BODY_PROPORTION_THRESHOLD = 0.7  # ts-017: body_length_match when proportion > 0.7

# Header names present on most responses; only the others say "same server" (ts-017).
COMMON_HEADERS = frozenset({
    "date", "content-type", "server", "cache-control", "vary", "set-cookie", "location",
    "expires", "x-powered-by", "content-encoding", "last-modified", "accept-ranges",
    "pragma", "x-frame-options", "etag", "x-content-type-options", "age", "via", "p3p",
    "x-xss-protection", "content-language", "cf-ray", "strict-transport-security",
    "link", "x-varnish", "content-length", "connection", "transfer-encoding", "alt-svc",
})


def status_match(obs: HTTPObservation) -> bool | None:
    ctrl = obs.ctrl
    if ctrl is None or ctrl.status_code is None or obs.status_code is None:
        return None
    if obs.status_code == ctrl.status_code:
        return True
    return None if ctrl.status_code >= 500 else False


def body_proportion(obs: HTTPObservation) -> float | None:
    ctrl = obs.ctrl
    if ctrl is None or not ctrl.body_length or not obs.body_length or obs.body_is_truncated:
        return None
    small, large = sorted((obs.body_length, ctrl.body_length))
    return small / large


def title_match(obs: HTTPObservation) -> bool | None:
    if obs.ctrl is None or obs.body_is_truncated:
        return None
    probe_words = {w for w in obs.title.lower().split() if len(w) >= 5}
    ctrl_words = {w for w in obs.ctrl.title.lower().split() if len(w) >= 5}
    if not probe_words or not ctrl_words:
        return None
    return bool(probe_words & ctrl_words)


def headers_match(obs: HTTPObservation) -> bool | None:
    """Shared distinctive header names.  Undecided when neither side has any:
    identical sets of common headers (deployed v0.4 counts those as a match)
    say nothing, since blockpages and real pages both send them."""
    if obs.ctrl is None or not obs.ctrl.headers:
        return None
    probe_rare = obs.header_names - COMMON_HEADERS
    ctrl_rare = {name for name, _ in obs.ctrl.headers} - COMMON_HEADERS
    if not probe_rare and not ctrl_rare:
        return None
    return bool(probe_rare & ctrl_rare)


def matches_control(obs: HTTPObservation) -> tuple[bool, dict[str, int | float | str | bool | None]]:
    """Whether the final response is the helper's page, with the comparison as evidence."""
    proportion = body_proportion(obs)
    checks = {
        "status_code": obs.status_code,
        "control_status_code": obs.ctrl.status_code if obs.ctrl else None,
        "body_length": obs.body_length,
        "control_body_length": obs.ctrl.body_length if obs.ctrl else None,
        "body_proportion": round(proportion, 3) if proportion is not None else None,
        "title": obs.title[:200] or None,
        "control_title": (obs.ctrl.title[:200] or None) if obs.ctrl else None,
        "title_match": title_match(obs),
        "headers_match": headers_match(obs),
        "status_match": status_match(obs),
    }
    if checks["status_match"] is False:
        return False, checks
    same = (
        obs.body_is_truncated
        or (proportion is not None and proportion > BODY_PROPORTION_THRESHOLD)
        or checks["title_match"] is True
        or checks["headers_match"] is True
    )
    return bool(same), checks
