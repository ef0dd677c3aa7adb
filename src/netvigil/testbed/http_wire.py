"""HTTP/1.1 on the testbed's side: reading a request head, writing a response.

Shared by the origin servers and by the censor when it injects a blockpage, so
that an injected page and a real one are framed the same way and differ only
in what a censor changes: status, headers and content.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
from dataclasses import dataclass
from email.utils import formatdate

from netvigil.testbed.wire import MAX_HEAD

_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 403: "Forbidden", 404: "Not Found",
            451: "Unavailable For Legal Reasons", 503: "Service Unavailable"}
_WORDS = ("report", "election", "archive", "journal", "society", "culture", "science", "market",
          "freedom", "network", "history", "opinion", "weather", "sports", "letters", "analysis")


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    target: str
    host: str | None


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """The next request head, or None when the client closed first or sent garbage."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        return None
    lines = head[:-4].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or len(head) > MAX_HEAD:
        return None
    host = next((line.partition(":")[2].strip() for line in lines[1:]
                 if line.partition(":")[0].strip().lower() == "host"), None)
    return Request(parts[0].upper(), parts[1], host)


def response_head(status: int, headers: list[tuple[str, str]], length: int) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
             f"Date: {formatdate(usegmt=True)}", *(f"{k}: {v}" for k, v in headers),
             f"Content-Length: {length}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


def response(status: int, headers: list[tuple[str, str]], body: bytes, *, head_only: bool = False) -> bytes:
    return response_head(status, headers, len(body)) + (b"" if head_only else body)


def html_page(title: str, body: str) -> bytes:
    """An HTML document; ``body`` is HTML and is inserted as it is."""
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title></head>"
            f"<body>{body}</body></html>\n").encode()


def filler(seed: str, size: int = 6000) -> str:
    """Deterministic paragraphs of about ``size`` characters, different for every ``seed``."""
    digest = hashlib.sha256(seed.encode()).digest()
    words, i = [], 0
    while sum(len(w) + 1 for w in words) < size:
        words.append(_WORDS[(digest[i % len(digest)] + i) % len(_WORDS)])
        i += 1
    sentences = [" ".join(words[j:j + 12]).capitalize() + "." for j in range(0, len(words), 12)]
    return "".join(f"<p>{' '.join(sentences[j:j + 5])}</p>\n" for j in range(0, len(sentences), 5))
