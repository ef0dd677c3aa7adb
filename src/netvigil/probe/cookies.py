"""A small cookie jar, enough to follow a redirect chain the way a browser would.

Sites that set a cookie and redirect to themselves (consent walls, anti-bot
checks) loop forever for a client without cookies, so ts-017 requires them.
Session semantics only: ``Expires`` is ignored, ``Max-Age<=0`` deletes.
"""

from __future__ import annotations

from dataclasses import dataclass

from netvigil.probe.records import Headers
from netvigil.probe.urls import Target


@dataclass(frozen=True, slots=True)
class Cookie:
    name: str
    value: str
    domain: str
    host_only: bool
    path: str
    secure: bool


class CookieJar:
    def __init__(self) -> None:
        self._cookies: dict[tuple[str, str, str], Cookie] = {}

    def store(self, target: Target, headers: Headers) -> None:
        """Take every acceptable ``Set-Cookie`` of a response to ``target``."""
        for name, value in headers:
            if name.lower() == "set-cookie":
                self._store_one(target, value)

    def header(self, target: Target) -> str | None:
        """The ``Cookie`` header for a request to ``target``, or None."""
        path = target.request_target.split("?", 1)[0]
        pairs = [f"{c.name}={c.value}" for c in self._cookies.values()
                 if _domain_ok(c, target.host) and _path_ok(c.path, path)
                 and (not c.secure or target.scheme == "https")]
        return "; ".join(pairs) or None

    def _store_one(self, target: Target, raw: str) -> None:
        first, *attributes = raw.split(";")
        name, sep, value = first.partition("=")
        name = name.strip()
        if not sep or not name:
            return  # not a cookie (RFC 6265 §5.2: ignore the whole header)
        attrs = {k.strip().lower(): v.strip() for k, _, v in (a.partition("=") for a in attributes)}
        domain = attrs.get("domain", "").lstrip(".").lower()
        if domain and not (target.host == domain or target.host.endswith("." + domain)):
            return  # a domain the response's host may not set cookies for
        cookie = Cookie(name=name, value=value.strip(), domain=domain or target.host, host_only=not domain,
                        path=attrs.get("path") or _default_path(target), secure="secure" in attrs)
        key = (cookie.domain, cookie.path, cookie.name)
        max_age = attrs.get("max-age", "")
        if max_age.lstrip("-").isdigit() and int(max_age) <= 0:
            self._cookies.pop(key, None)
        else:
            self._cookies[key] = cookie


def _default_path(target: Target) -> str:
    path = target.request_target.split("?", 1)[0]
    return path[:path.rfind("/")] or "/"


def _domain_ok(cookie: Cookie, host: str) -> bool:
    if cookie.host_only:
        return host == cookie.domain
    return host == cookie.domain or host.endswith("." + cookie.domain)


def _path_ok(cookie_path: str, path: str) -> bool:
    if path == cookie_path or cookie_path == "/":
        return True
    return path.startswith(cookie_path) and (cookie_path.endswith("/") or path[len(cookie_path)] == "/")
