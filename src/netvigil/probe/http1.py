"""An incremental HTTP/1.1 response parser without I/O (status line, headers, body framing).

Hostile servers are the norm for a censorship probe, so every dimension is
capped: the head (status line + headers) by bytes and by count, a chunk-size
line by length, and the body by ``max_body_bytes`` -- a body past the cap is
cut and flagged ``body_is_truncated`` (not a failure, as in OONI).  Protocol
violations raise :class:`StepError` with a fixed ``unknown_failure`` text (no
server bytes are echoed into failure strings).  Time limits belong to the caller.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from netvigil.failures import Failure
from netvigil.probe.errors import StepError, unknown

MALFORMED = unknown("malformed HTTP response")
HEAD_TOO_LARGE = unknown("HTTP response headers exceed the limit")
BAD_CHUNK = unknown("malformed chunked encoding")
BAD_ENCODING = unknown("malformed gzip content encoding")
_MAX_LINE = 8192
_NO_BODY_CODES = frozenset({204, 304})


@dataclass(frozen=True, slots=True)
class Limits:
    max_body_bytes: int
    max_head_bytes: int = 64 * 1024
    max_headers: int = 256


class ResponseParser:
    """Feed bytes as they arrive; ``done`` turns true once the response is complete."""

    def __init__(self, limits: Limits, *, head_request: bool = False) -> None:
        self.limits = limits
        self.head_request = head_request
        self.status: int | None = None
        self.headers: list[tuple[str, str]] = []
        self.body = bytearray()
        self.truncated = False
        self.done = False
        self._buf = bytearray()
        self._mode = "head"  # head -> length | chunk-size | chunk-data | chunk-crlf | trailers | close
        self._left = 0

    def feed(self, data: bytes) -> None:
        if self.done:
            return
        self._buf += data
        while not self.done and self._step():
            pass

    def feed_eof(self) -> None:
        """The peer closed: fine for read-until-close bodies, ``eof_error`` otherwise."""
        if self.done:
            return
        if self._mode == "close":
            self._append(bytes(self._buf))
            self._buf.clear()
            self.done = True
            return
        raise StepError(Failure.EOF_ERROR.value)

    # Each step consumes what it can and returns True when it made progress.
    def _step(self) -> bool:
        if self._mode == "head":
            return self._head()
        if self._mode in ("length", "close", "chunk-data"):
            return self._body_bytes()
        if self._mode == "chunk-size":
            return self._chunk_size()
        if self._mode == "chunk-crlf":
            return self._chunk_crlf()
        return self._trailers()

    def _head(self) -> bool:
        end, sep_len = _find_blank_line(self._buf)
        if end < 0:
            if len(self._buf) > self.limits.max_head_bytes:
                raise StepError(HEAD_TOO_LARGE)
            return False
        if end > self.limits.max_head_bytes:
            raise StepError(HEAD_TOO_LARGE)
        head = bytes(self._buf[:end])
        del self._buf[:end + sep_len]
        status, headers = parse_head(head, self.limits.max_headers)
        if 100 <= status < 200 and status != 101:
            return True  # an interim response: the real one follows
        self.status, self.headers = status, headers
        self._choose_framing()
        return True

    def _choose_framing(self) -> None:
        assert self.status is not None
        if self.head_request or self.status in _NO_BODY_CODES or self.status < 200:
            self.done = True
            return
        encodings = [v.strip().lower() for k, v in self.headers if k.lower() == "transfer-encoding"]
        if encodings:
            self._mode = "chunk-size" if encodings[-1].split(",")[-1].strip() == "chunked" else "close"
            return
        lengths = {v.strip() for k, v in self.headers if k.lower() == "content-length"}
        if not lengths:
            self._mode = "close"
            return
        if len(lengths) != 1 or not next(iter(lengths)).isdigit():
            raise StepError(MALFORMED)
        self._left = int(next(iter(lengths)))
        self._mode = "length"
        self.done = self._left == 0

    def _body_bytes(self) -> bool:
        if not self._buf:
            return False
        if self._mode == "close":
            self._append(bytes(self._buf))
            self._buf.clear()
            return False
        take = bytes(self._buf[:self._left])
        del self._buf[:len(take)]
        self._left -= len(take)
        self._append(take)
        if self._left == 0 and not self.done:
            if self._mode == "length":
                self.done = True
            else:
                self._mode = "chunk-crlf"
        return True

    def _chunk_size(self) -> bool:
        line = self._line()
        if line is None:
            return False
        size = line.split(b";", 1)[0].strip()
        try:
            self._left = int(size, 16)
        except ValueError:
            raise StepError(BAD_CHUNK) from None
        if self._left < 0 or not size.isalnum():
            raise StepError(BAD_CHUNK)
        self._mode = "chunk-data" if self._left else "trailers"
        return True

    def _chunk_crlf(self) -> bool:
        line = self._line()
        if line is None:
            return False
        if line:
            raise StepError(BAD_CHUNK)
        self._mode = "chunk-size"
        return True

    def _trailers(self) -> bool:
        line = self._line()
        if line is None:
            return False
        if not line:
            self.done = True
        return True

    def _line(self) -> bytes | None:
        end = self._buf.find(b"\n")
        if end < 0:
            if len(self._buf) > _MAX_LINE:
                raise StepError(BAD_CHUNK)
            return None
        line = bytes(self._buf[:end]).rstrip(b"\r")
        del self._buf[:end + 1]
        return line

    def _append(self, data: bytes) -> None:
        room = self.limits.max_body_bytes - len(self.body)
        if len(data) > room:
            self.body += data[:room]
            self.truncated = True
            self.done = True
        else:
            self.body += data


def _find_blank_line(buf: bytearray) -> tuple[int, int]:
    """Index of the head/body separator and its length (CRLFCRLF, or bare LFLF)."""
    crlf = buf.find(b"\r\n\r\n")
    lf = buf.find(b"\n\n")
    if lf >= 0 and (crlf < 0 or lf < crlf):
        return lf, 2
    return crlf, 4


def parse_head(head: bytes, max_headers: int) -> tuple[int, list[tuple[str, str]]]:
    """Status code and headers (names and values decoded with surrogateescape)."""
    lines = [line.rstrip(b"\r") for line in head.split(b"\n")]
    parts = lines[0].split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or len(parts[1]) != 3 or not parts[1].isdigit():
        raise StepError(MALFORMED)
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t") and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {_text(line.strip())}")
            continue
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip() or b" " in name:
            raise StepError(MALFORMED)
        headers.append((_text(name), _text(value.strip())))
        if len(headers) > max_headers:
            raise StepError(HEAD_TOO_LARGE)
    return int(parts[1]), headers


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def decode_content(headers: list[tuple[str, str]], body: bytes, cap: int) -> tuple[bytes, bool]:
    """Undo ``Content-Encoding: gzip`` (which we ask for, like Go's client), capped at ``cap``.

    Returns ``(body, truncated)``; a corrupt stream raises StepError.
    """
    encoding = next((v.strip().lower() for k, v in headers if k.lower() == "content-encoding"), "")
    if encoding not in ("gzip", "x-gzip") or not body:
        return body, False
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        plain = decoder.decompress(body, cap + 1)
    except zlib.error:
        raise StepError(BAD_ENCODING) from None
    if len(plain) > cap:
        return plain[:cap], True
    return plain, False
