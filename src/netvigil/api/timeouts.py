"""Read timeouts for ``netvigil serve``: slowloris cannot hold the server's sockets.

uvicorn closes an idle keep-alive connection, but it waits forever for a
request's headers (a client can send ``GET / HTTP/1.1\\r\\nHost: x\\r\\n`` and
stop) and for its body (a byte now and then resets nothing).  This protocol
adds two deadlines to uvicorn's h11 protocol:

* headers: from the connection (or the first byte of the next request on a
  kept-alive one) until the request's headers are complete;
* body: from the end of the headers until the whole body has arrived.

A connection past its deadline is closed (a ``408`` first when nothing of a
response was sent).  While the application works on a complete request no
deadline runs: a long ingest is not a slow client.
"""

from __future__ import annotations

import asyncio
from typing import Any

HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 120.0  # a 16 MiB batch over a slow (censored) uplink still fits
_TIMEOUT_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                     b"Content-Length: 16\r\n\r\nrequest too slow")


def timed_protocol(*, header_timeout: float = HEADER_TIMEOUT, body_timeout: float = BODY_TIMEOUT) -> type:
    """uvicorn's h11 protocol with header and body read deadlines (pass as ``Config(http=...)``)."""
    import h11  # imported here: the command line loads this module, only ``serve`` needs uvicorn
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class TimedH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None
        _phase = ""  # "headers", "body", or "" (no deadline running)

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm("headers", header_timeout)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self._follow(data_arrived=True)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._follow(data_arrived=False)

        def connection_lost(self, exc: Exception | None) -> None:
            self._arm("", None)
            super().connection_lost(exc)

        def _follow(self, *, data_arrived: bool) -> None:
            """Move the deadline along with the peer's state in the HTTP exchange."""
            state = self.conn.their_state
            if state is h11.IDLE:
                waiting = data_arrived or bool(self.conn.trailing_data[0])
                if waiting and self._phase != "headers":
                    self._arm("headers", header_timeout)  # a new request began to arrive
                elif not waiting and self._phase != "headers":
                    self._arm("", None)  # idle between requests: uvicorn's keep-alive timeout applies
            elif state is h11.SEND_BODY:
                if self._phase != "body":
                    self._arm("body", body_timeout)
            else:
                self._arm("", None)

        def _arm(self, phase: str, seconds: float | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            self._phase = phase
            if seconds is not None:
                self._deadline = self.loop.call_later(seconds, self._expired)

        def _expired(self) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            cycle = self.cycle
            if cycle is None or cycle.response_complete or not cycle.response_started:
                self.transport.write(_TIMEOUT_RESPONSE)
            self.transport.close()

    return TimedH11Protocol
