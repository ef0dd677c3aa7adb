"""A traced TCP connection: every read and write becomes a df-008 network event."""

from __future__ import annotations

import asyncio
import ssl

from netvigil.probe.errors import classify
from netvigil.probe.trace import Trace

READ_SIZE = 65536


class Conn:
    """A stream (plain or TLS) bound to one endpoint, transaction and tag set."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, address: str,
                 trace: Trace, transaction_id: int, tags: tuple[str, ...]) -> None:
        self.reader = reader
        self.writer = writer
        self.address = address
        self.trace = trace
        self.transaction_id = transaction_id
        self.tags = tags

    async def read(self, size: int = READ_SIZE) -> bytes:
        """Up to ``size`` bytes; ``b""`` at EOF.  Errors are recorded, then re-raised."""
        t0 = self.trace.now()
        try:
            data = await self.reader.read(size)
        except Exception as exc:
            self._event("read", t0, failure=classify(exc))
            raise
        self._event("read", t0, num_bytes=len(data))
        return data

    async def write(self, data: bytes) -> None:
        t0 = self.trace.now()
        try:
            self.writer.write(data)
            await self.writer.drain()
        except Exception as exc:
            self._event("write", t0, failure=classify(exc))
            raise
        self._event("write", t0, num_bytes=len(data))

    async def start_tls(self, context: ssl.SSLContext, server_name: str, timeout: float) -> ssl.SSLObject:
        """Our own deadline (TimeoutError), not asyncio's ssl_handshake_timeout, which
        reports a stalled handshake as a ConnectionAbortedError."""
        async with asyncio.timeout(timeout):
            await self.writer.start_tls(context, server_hostname=server_name or None)
        return self.writer.get_extra_info("ssl_object")

    def close(self) -> None:
        """Abort: the probe never lingers on a connection it is done with."""
        self.writer.transport.abort()

    def _event(self, operation: str, t0: float, *, num_bytes: int | None = None,
               failure: str | None = None) -> None:
        self.trace.event(operation, t0=t0, transaction_id=self.transaction_id, tags=self.tags,
                         address=self.address, num_bytes=num_bytes, failure=failure)
