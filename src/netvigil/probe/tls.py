"""The TLS handshake step (stdlib ssl, SNI, verification against certifi + system + ca_file).

Verification happens inside the handshake, so OpenSSL's verify code tells us
*why* a certificate was rejected (unknown authority, wrong name, expired);
like OONI's probe we then record no peer certificates for a failed handshake.
"""

from __future__ import annotations

import ssl
from functools import lru_cache

import certifi

from netvigil.probe.conn import Conn
from netvigil.probe.errors import classify
from netvigil.probe.records import TLSHandshakeResult

ALPN = ("http/1.1",)  # our HTTP client speaks HTTP/1.1 only, so we never offer h2


@lru_cache(maxsize=8)
def client_context(ca_file: str | None) -> ssl.SSLContext:
    """One verifying context per extra CA file (building one costs milliseconds of CPU)."""
    context = ssl.create_default_context(cafile=certifi.where())
    context.load_default_certs()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    context.set_alpn_protocols(list(ALPN))
    return context


async def tls_handshake(conn: Conn, server_name: str, *, context: ssl.SSLContext,
                        timeout: float) -> TLSHandshakeResult:
    """Upgrade ``conn`` in place; on failure the caller must close it."""
    trace = conn.trace
    common = {"address": conn.address, "server_name": server_name, "transaction_id": conn.transaction_id,
              "tags": conn.tags, "t0": trace.now()}
    try:
        tls = await conn.start_tls(context, server_name, timeout)
    except Exception as exc:  # noqa: BLE001 -- the step boundary: classified and recorded
        return TLSHandshakeResult(**common, t=trace.now(), failure=classify(exc))
    cipher = tls.cipher()
    return TLSHandshakeResult(
        **common, t=trace.now(), failure=None,
        cipher_suite=cipher[0] if cipher else "",
        negotiated_protocol=tls.selected_alpn_protocol() or "",
        tls_version=tls.version() or "",
        peer_certificates=peer_chain(tls),
    )


def peer_chain(tls: ssl.SSLObject) -> tuple[bytes, ...]:
    """DER certificates as the server sent them, leaf first.

    Python 3.13 has ``SSLObject.get_unverified_chain``; 3.11/3.12 expose the same
    call only on the private ``_sslobj``.  Without either we record the leaf alone.
    """
    public = getattr(tls, "get_unverified_chain", None)
    if public is not None:
        return tuple(public())
    private = getattr(getattr(tls, "_sslobj", None), "get_unverified_chain", None)
    if private is not None:
        return tuple(ssl.PEM_cert_to_DER_cert(cert.public_bytes()) for cert in private() or ())
    leaf = tls.getpeercert(binary_form=True)
    return (leaf,) if leaf else ()
