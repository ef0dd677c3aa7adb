"""Servers and tasks that can all be stopped: the basis of the testbed's cleanup.

asyncio's ``Server.close()`` stops accepting but leaves running connection
handlers alone, and a task nobody awaits outlives its creator.  A
:class:`Supervisor` owns every listening socket, connection handler and
background task of a component; :meth:`Supervisor.close` stops them all and
waits until they are gone.  Handlers that fail are logged, never dropped: a
client going away (reset, EOF) at debug level, anything else with its
traceback.  A client refusing a TLS handshake counts as going away.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
_CLIENT_GONE = (ConnectionError, asyncio.IncompleteReadError, TimeoutError, ssl.SSLError)
PORT_ATTEMPTS = 20
ACCEPT_ITERATIONS = 2
HANDSHAKE_TIMEOUT = 10.0


class Supervisor:
    """Owns servers, connection handlers and tasks; ``close()`` ends them all."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._servers: list[asyncio.AbstractServer] = []
        self._transports: list[asyncio.BaseTransport] = []
        self._sockets: list[socket.socket] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(self._guard(coro, name), name=f"{self.name}: {name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guard(self, coro: Awaitable[None], name: str) -> None:
        try:
            await coro
        except _CLIENT_GONE as exc:
            log.debug("%s: %s ended: %r", self.name, name, exc)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: %s failed", self.name, name)

    async def serve(self, handler: Handler, sock: socket.socket, *,
                    tls: ssl.SSLContext | None = None) -> asyncio.AbstractServer:
        """Serve TCP connections on an already bound socket, with TLS when ``tls`` is given.

        The TLS handshake happens inside the connection's handler task (not in
        asyncio's accept machinery), so that :meth:`close` can stop it too.
        """
        async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            if self._closed:  # accepted while closing
                writer.transport.abort()
                return
            self._tasks.add(task)
            try:
                served = _after_handshake(handler, tls, reader, writer)
                await self._guard(served, f"connection from {_peer(writer)}")
            except asyncio.CancelledError:
                # close() cancelled this handler.  End normally: Python 3.11's stream
                # server logs a cancelled handler task as an error in its done-callback.
                log.debug("%s: connection handler stopped", self.name)
            finally:
                self._tasks.discard(task)
                if not writer.is_closing():  # a handler that closed on purpose (FIN) is left to finish
                    writer.transport.abort()

        self.reserve(sock)
        server = await asyncio.start_server(connected, sock=sock)
        self._servers.append(server)
        return server

    def keep(self, transport: asyncio.BaseTransport) -> None:
        """A transport (e.g. a UDP endpoint) to close with the rest."""
        self._transports.append(transport)

    def reserve(self, sock: socket.socket) -> None:
        """A socket to close with the rest.  Bound and not served, it refuses connections."""
        self._sockets.append(sock)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for server in self._servers:
            server.close()
        for transport in self._transports:
            transport.close()
        for sock in self._sockets:
            sock.close()
        while True:
            # Connections accepted just before the servers closed reach their handler
            # (which refuses them) within two loop iterations.
            for _ in range(ACCEPT_ITERATIONS):
                await asyncio.sleep(0)
            tasks = [t for t in self._tasks if t is not asyncio.current_task()]
            if not tasks:
                break
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()


async def _after_handshake(handler: Handler, tls: ssl.SSLContext | None, reader: asyncio.StreamReader,
                           writer: asyncio.StreamWriter) -> None:
    if tls is not None:
        await writer.start_tls(tls, ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
    await handler(reader, writer)


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if peer else "?"


def bind_tcp(address: str, port: int = 0, *, listen: bool = True) -> socket.socket:
    """A TCP socket bound to ``address:port``; not listening means connections are refused."""
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        if listen:
            sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def bind_common_port(addresses: Sequence[str], *, listen: Sequence[bool]) -> tuple[int, list[socket.socket]]:
    """Bind one TCP port number on every address (a free one, found by retrying).

    ``listen[i]`` false binds without listening: the port stays reserved and
    connections to it are refused.
    """
    for _ in range(PORT_ATTEMPTS):
        socks: list[socket.socket] = []
        try:
            first = bind_tcp(addresses[0], 0, listen=listen[0])
            socks.append(first)
            port = first.getsockname()[1]
            socks += [bind_tcp(a, port, listen=lis) for a, lis in zip(addresses[1:], listen[1:], strict=True)]
            return port, socks
        except OSError as exc:
            for s in socks:
                s.close()
            if exc.errno != errno.EADDRINUSE:
                raise
            log.debug("port taken on one of %s, trying another: %s", addresses, exc)
    raise OSError(errno.EADDRINUSE, f"no port free on all of {len(addresses)} addresses")
