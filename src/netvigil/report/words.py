"""Plain words for a reader who is not a network engineer: techniques, certainty, places.

A report states numbers as people say them ("92%", "3 networks"), never as raw
detector scores; techniques are named by what a person would have seen happen.
"""

from __future__ import annotations

TECHNIQUE_WORDS = {
    "dns.nxdomain": "DNS: the site's name was said not to exist",
    "dns.bogon": "DNS: a fake, unusable address was returned",
    "dns.spoof": "DNS: a forged address was returned",
    "dns.timeout": "DNS: the name lookup got no answer",
    "dns.refused": "DNS: the name lookup was refused",
    "dns.servfail": "DNS: the name lookup failed on purpose",
    "dns.failure": "DNS: the name lookup failed",
    "tcp.timeout": "connections to the site were silently dropped",
    "tcp.refused": "connections to the site were refused",
    "tcp.unreachable": "the site's address was made unreachable",
    "tls.reset": "secure connections were cut during the handshake",
    "tls.timeout": "secure connections stalled during the handshake",
    "tls.eof": "secure connections were closed during the handshake",
    "tls.mitm": "a false certificate was presented (interception)",
    "tls.failure": "secure connections failed",
    "http.reset": "web requests were cut",
    "http.timeout": "web requests stalled",
    "http.eof": "web requests were closed before an answer",
    "http.blockpage": "a blockpage was served instead of the site",
    "http.diff": "a different page was served than the real one",
    "http.failure": "web requests failed",
    "throttling": "the site was slowed down to a crawl",
}
LAYER_WORDS = {"dns": "By DNS (the name lookup)", "tcp": "By dropping or refusing connections",
               "tls": "By cutting secure (TLS) connections", "http": "By interfering with the web page"}
KIND_WORDS = {"government_shutdown": "likely a government-ordered shutdown",
              "power_or_natural_outage": "likely a power cut or natural outage",
              "undetermined": "cause undetermined"}


def technique(name: str) -> str:
    return TECHNIQUE_WORDS.get(name, name)


def certainty(confidence: float) -> str:
    """A rule's confidence as a word and a whole percentage."""
    if confidence >= 1.0:
        return "confirmed (100%)"
    word = "high" if confidence >= 0.85 else "moderate" if confidence >= 0.6 else "low"
    return f"{word} ({confidence:.0%})"


def percent(part: int, whole: int) -> str:
    if not whole:
        return "0%"
    share = part / whole
    return "under 1%" if 0 < share < 0.01 else f"{share:.0%}"


def kind(value: str | None) -> str:
    return "cause not assessed" if not value else KIND_WORDS.get(value, value.replace("_", " "))


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"
