"""TLS interception: the censor answers the handshake itself.

The censor has already read the ClientHello (to learn the SNI), so it cannot
hand the socket to an ordinary TLS server; it drives an :class:`ssl.SSLObject`
over memory buffers instead, starting with the bytes it holds.  Its
certificate names the SNI but is issued by the testbed's *censor* CA, which no
client trusts: a verifying client aborts with an unknown-CA alert
(``ssl_unknown_authority``).  A client that does not verify (``curl -k``)
completes the handshake and is then closed with a close_notify.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from dataclasses import dataclass

from netvigil.testbed.censor import Link
from netvigil.testbed.pki import TestbedPKI

log = logging.getLogger(__name__)

UNNAMED = "unnamed.invalid"  # the name certified when the ClientHello carried no SNI


@dataclass(frozen=True, slots=True)
class Intercept:
    """Complete the client's handshake with a certificate from an untrusted CA."""

    pki: TestbedPKI

    async def act(self, link: Link) -> None:
        context = self.pki.interception_context(link.flow.name or UNNAMED)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = context.wrap_bio(incoming, outgoing, server_side=True)
        incoming.write(link.first)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                await _flush(link, outgoing)
                data = await link.reader.read(65536)
                if not data:
                    return
                incoming.write(data)
            except ssl.SSLError as exc:
                log.debug("intercepted handshake refused by the client: %s", exc)
                await _flush(link, outgoing)
                await link.close()
                return
        await _flush(link, outgoing)
        with contextlib.suppress(ssl.SSLWantReadError):  # close_notify sent; the client's is not awaited
            tls.unwrap()
        await _flush(link, outgoing)
        await link.close()


async def _flush(link: Link, outgoing: ssl.MemoryBIO) -> None:
    data = outgoing.read()
    if data:
        link.writer.write(data)
        await link.writer.drain()
