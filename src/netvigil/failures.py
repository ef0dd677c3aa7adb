"""The one failure vocabulary: OONI's df-007 strings, used by every part of netvigil.

Probe steps emit these strings, the analysis reads them, the store keeps them.
Legacy strings (Twisted-era ooni-probe, the test helper's own names) are mapped
onto the current vocabulary by :func:`normalize_failure` so that rules compare
like with like.  Anything outside the vocabulary is kept visible as
``unknown_failure: <text>`` rather than dropped.
"""

from __future__ import annotations

from enum import StrEnum


class Failure(StrEnum):
    """Current df-007 failure strings (ooni/spec data-formats/df-007-errors.md)."""

    ANDROID_DNS_CACHE_NO_DATA = "android_dns_cache_no_data"
    CONNECTION_ABORTED = "connection_aborted"
    CONNECTION_ALREADY_CLOSED = "connection_already_closed"
    CONNECTION_REFUSED = "connection_refused"
    CONNECTION_RESET = "connection_reset"
    DNS_BOGON_ERROR = "dns_bogon_error"
    DNS_NO_ANSWER = "dns_no_answer"
    DNS_NON_RECOVERABLE_FAILURE = "dns_non_recoverable_failure"
    DNS_NXDOMAIN_ERROR = "dns_nxdomain_error"
    DNS_REPLY_WITH_WRONG_QUERY_ID = "dns_reply_with_wrong_query_id"
    DNS_REFUSED_ERROR = "dns_refused_error"
    DNS_SERVER_MISBEHAVING = "dns_server_misbehaving"
    DNS_SERVFAIL_ERROR = "dns_servfail_error"
    DNS_TEMPORARY_FAILURE = "dns_temporary_failure"
    EOF_ERROR = "eof_error"
    HTTP_INVALID_REDIRECT_LOCATION_HOST = "http_invalid_redirect_location_host"
    HTTP_REQUEST_FAILED = "http_request_failed"
    HOST_UNREACHABLE = "host_unreachable"
    GENERIC_TIMEOUT_ERROR = "generic_timeout_error"
    HTTP_UNEXPECTED_REDIRECT_URL = "http_unexpected_redirect_url"
    HTTP_UNEXPECTED_STATUS_CODE = "http_unexpected_status_code"
    INTERRUPTED = "interrupted"
    JSON_PARSE_ERROR = "json_parse_error"
    NETWORK_DOWN = "network_down"
    NETWORK_RESET = "network_reset"
    NETWORK_UNREACHABLE = "network_unreachable"
    QUIC_INCOMPATIBLE_VERSION = "quic_incompatible_version"
    SSL_FAILED_HANDSHAKE = "ssl_failed_handshake"
    SSL_INVALID_HOSTNAME = "ssl_invalid_hostname"
    SSL_UNKNOWN_AUTHORITY = "ssl_unknown_authority"
    SSL_INVALID_CERTIFICATE = "ssl_invalid_certificate"
    UNKNOWN_FAILURE = "unknown_failure"


class Operation(StrEnum):
    """The step that failed, kept beside the failure (probe-cli's operations)."""

    RESOLVE = "resolve"
    CONNECT = "connect"
    TLS_HANDSHAKE = "tls_handshake"
    HTTP_ROUND_TRIP = "http_round_trip"
    READ = "read"
    WRITE = "write"


UNKNOWN_PREFIX = "unknown_failure"

# Legacy (ooni-probe 2.x / Twisted, Measurement Kit, test-helper) names -> current names.
_LEGACY = {
    "connection_refused_error": Failure.CONNECTION_REFUSED,
    "connection_lost_error": Failure.CONNECTION_RESET,
    "connection_done": Failure.EOF_ERROR,
    "response_never_received": Failure.GENERIC_TIMEOUT_ERROR,
    "deferred_timeout_error": Failure.GENERIC_TIMEOUT_ERROR,
    "tcp_timed_out_error": Failure.GENERIC_TIMEOUT_ERROR,
    "task_timed_out": Failure.GENERIC_TIMEOUT_ERROR,
    "dns_name_error": Failure.DNS_NXDOMAIN_ERROR,
    "dns_lookup_error": Failure.DNS_SERVER_MISBEHAVING,
    "dns_name_failure": Failure.DNS_SERVFAIL_ERROR,
    "address_family_not_supported_error": Failure.NETWORK_UNREACHABLE,
    "ssl_error": Failure.SSL_FAILED_HANDSHAKE,
    # Measurement Kit's name for a redirect whose Location cannot be followed.
    "http_invalid_redirect_url": Failure.HTTP_INVALID_REDIRECT_LOCATION_HOST,
}

_KNOWN = {f.value: f.value for f in Failure}


def normalize_failure(value: object) -> str | None:
    """Map any failure value found in a measurement onto the df-007 vocabulary.

    ``None`` (and the empty string some helpers send) means success.  Known strings
    pass through; legacy names are translated; anything else becomes
    ``unknown_failure: <original>`` so that the original text is never lost.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        return f"{UNKNOWN_PREFIX}: {value!r}"
    known = _KNOWN.get(value)
    if known is not None:
        return known
    legacy = _LEGACY.get(value)
    if legacy is not None:
        return legacy.value
    if value.startswith(UNKNOWN_PREFIX):
        return value
    if value.startswith("unknown_error"):
        return f"{UNKNOWN_PREFIX}: {value}"
    return f"{UNKNOWN_PREFIX}: {value}"


def is_timeout(failure: str | None) -> bool:
    return failure == Failure.GENERIC_TIMEOUT_ERROR


def is_reset(failure: str | None) -> bool:
    return failure in (Failure.CONNECTION_RESET, Failure.NETWORK_RESET, Failure.CONNECTION_ABORTED)


def is_refused(failure: str | None) -> bool:
    return failure == Failure.CONNECTION_REFUSED


def is_eof(failure: str | None) -> bool:
    return failure == Failure.EOF_ERROR


def is_nxdomain(failure: str | None) -> bool:
    """NXDOMAIN, including Android's opaque cache failure that hides it (probe#2029)."""
    return failure in (Failure.DNS_NXDOMAIN_ERROR, Failure.ANDROID_DNS_CACHE_NO_DATA)


def is_tls_certificate(failure: str | None) -> bool:
    return failure in (
        Failure.SSL_UNKNOWN_AUTHORITY,
        Failure.SSL_INVALID_HOSTNAME,
        Failure.SSL_INVALID_CERTIFICATE,
    )
