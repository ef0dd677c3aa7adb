"""Exception -> df-007 failure string, classified where the exception happens.

Order of checks (most specific first, as OONI's netxlite does): failures our own
code already classified (:class:`StepError`), timeouts, certificate errors by
OpenSSL verify code, other TLS errors, ``getaddrinfo`` errors, then ``errno``
(portable, unlike message text), then exception types.  Anything left becomes
``unknown_failure: <message>`` with every IP address in the message scrubbed,
so no failure string can leak the probe's (or anyone's) address.
"""

from __future__ import annotations

import asyncio
import errno
import re
import socket
import ssl

from netvigil.failures import UNKNOWN_PREFIX, Failure

SCRUBBED = "[scrubbed]"


class StepError(Exception):
    """A failure our own code detected (bad DNS reply, malformed HTTP, SOCKS refusal).

    It carries its df-007 string so that :func:`classify` passes it through unchanged.
    """

    def __init__(self, failure: str) -> None:
        super().__init__(failure)
        self.failure = failure


def unknown(detail: str) -> str:
    """An ``unknown_failure`` string with addresses removed from ``detail``."""
    return f"{UNKNOWN_PREFIX}: {scrub_addresses(detail)}"


_ERRNO = {
    errno.ECONNREFUSED: Failure.CONNECTION_REFUSED,
    errno.ECONNRESET: Failure.CONNECTION_RESET,
    errno.EPIPE: Failure.CONNECTION_RESET,  # writing after the peer reset the connection
    errno.ECONNABORTED: Failure.CONNECTION_ABORTED,
    errno.EHOSTUNREACH: Failure.HOST_UNREACHABLE,
    errno.ENETUNREACH: Failure.NETWORK_UNREACHABLE,
    errno.ENETDOWN: Failure.NETWORK_DOWN,
    errno.ENETRESET: Failure.NETWORK_RESET,
    errno.ETIMEDOUT: Failure.GENERIC_TIMEOUT_ERROR,
    errno.EADDRNOTAVAIL: Failure.NETWORK_UNREACHABLE,  # e.g. an IPv6 address on a v4-only host
}

_GAI = {
    socket.EAI_NONAME: Failure.DNS_NXDOMAIN_ERROR,
    socket.EAI_AGAIN: Failure.DNS_TEMPORARY_FAILURE,
    socket.EAI_FAIL: Failure.DNS_NON_RECOVERABLE_FAILURE,
}
for _name, _failure in (("EAI_NODATA", Failure.DNS_NO_ANSWER), ("EAI_ADDRFAMILY", Failure.DNS_NO_ANSWER)):
    if hasattr(socket, _name):  # glibc only
        _GAI[getattr(socket, _name)] = _failure

# OpenSSL X509_V_ERR_* codes (x509_vfy.h) that say "no trusted issuer".
_UNKNOWN_AUTHORITY = frozenset({2, 18, 19, 20, 21, 27})
_HOSTNAME_MISMATCH = frozenset({62, 64})  # HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH


def classify(exc: BaseException) -> str:
    """The df-007 failure string for an exception raised by a network operation."""
    if isinstance(exc, StepError):
        return exc.failure
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError, socket.timeout)):
        return Failure.GENERIC_TIMEOUT_ERROR.value
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _certificate_failure(exc)
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError, asyncio.IncompleteReadError, EOFError)):
        return Failure.EOF_ERROR.value
    if isinstance(exc, ssl.SSLError):
        return Failure.SSL_FAILED_HANDSHAKE.value
    if isinstance(exc, socket.gaierror):
        failure = _GAI.get(exc.errno)
        return failure.value if failure else Failure.DNS_SERVER_MISBEHAVING.value
    if isinstance(exc, OSError) and exc.errno in _ERRNO:
        return _ERRNO[exc.errno].value
    if isinstance(exc, ConnectionResetError) and exc.errno is None:
        # QUIRK: asyncio's TLS layer turns a FIN during the handshake into a bare
        # ConnectionResetError; a real RST carries errno ECONNRESET (handled above).
        return Failure.EOF_ERROR.value
    if isinstance(exc, ConnectionResetError):
        return Failure.CONNECTION_RESET.value
    if isinstance(exc, ConnectionRefusedError):
        return Failure.CONNECTION_REFUSED.value
    return unknown(str(exc) or type(exc).__name__)


def _certificate_failure(exc: ssl.SSLCertVerificationError) -> str:
    code = exc.verify_code
    if code in _HOSTNAME_MISMATCH:
        return Failure.SSL_INVALID_HOSTNAME.value
    if code in _UNKNOWN_AUTHORITY:
        return Failure.SSL_UNKNOWN_AUTHORITY.value
    return Failure.SSL_INVALID_CERTIFICATE.value


_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])")


def scrub_addresses(text: str) -> str:
    """Replace every IPv4/IPv6 literal in free text (error messages only)."""
    return _IPV6.sub(SCRUBBED, _IPV4.sub(SCRUBBED, text))
