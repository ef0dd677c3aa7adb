"""URL handling shared by the probe, the helper and the HTTP client."""

from __future__ import annotations

import ipaddress
import string
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
_URL_SAFE = "".join(c for c in string.punctuation if c not in '"<>\\^`{|}')


class BadURL(ValueError):
    """A URL we cannot measure (unsupported scheme, no host, bad port or name)."""


class MissingHost(BadURL):
    """The URL has an empty host (the df-007 ``http_invalid_redirect_location_host`` case)."""


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    scheme: str
    host: str             # lower-case, IDNA (ASCII); no brackets for IPv6
    port: int
    explicit_port: bool
    request_target: str   # path + query, as sent on the request line

    @property
    def is_ip(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if not self.explicit_port else f"{host}:{self.port}"


def parse_target(url: str) -> Target:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise BadURL(f"invalid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise BadURL(f"unsupported scheme {scheme!r}")
    if not parts.hostname:
        raise MissingHost("the URL has no host")
    path = parts.path or "/"
    return Target(
        url=url.strip(), scheme=scheme, host=_ascii_host(parts.hostname), port=port or DEFAULT_PORTS[scheme],
        explicit_port=port is not None, request_target=f"{path}?{parts.query}" if parts.query else path,
    )


def _ascii_host(host: str) -> str:
    host = host.rstrip(".").lower()
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise BadURL(f"host {host!r} is not a valid internationalised name") from exc


def resolve_location(base: str, location: str) -> str:
    """The absolute URL a redirect points to (raises BadURL when it cannot be followed).

    Bytes outside printable ASCII are percent-encoded, as browsers do, so the URL
    stays valid text whatever the server sent.  ``http://`` (an authority with no
    host) is an error, not a link to the current page as ``urljoin`` would make it.
    """
    location = quote(location.strip().encode("utf-8", "surrogateescape"), safe=_URL_SAFE)
    try:
        parts = urlsplit(location)
        has_authority = location[len(parts.scheme) + 1 if parts.scheme else 0:].startswith("//")
        if has_authority and not parts.hostname:
            raise MissingHost(f"redirect location {location[:100]!r} has no host")
        return urljoin(base, location)
    except ValueError as exc:
        if isinstance(exc, BadURL):
            raise
        raise BadURL(f"invalid redirect location: {exc}") from exc
