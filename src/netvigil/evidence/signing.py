"""Ed25519 signatures over canonical JSON: measurements by probes, tree heads by the log.

A signed measurement carries one extra top-level member, :data:`SIGNATURE_FIELD`::

    "netvigil_signature": {"alg": "Ed25519", "key_id": "<hex>", "public_key": "<base64>",
                           "signature": "<base64>"}

The signature is over ``"netvigil measurement v1\\n"`` followed by the SHA-256 of
the RFC 8785 form of the measurement *without* that member (its content hash).
Signing the content hash rather than the whole text lets a report that cites a
thousand measurements show their signatures hold without shipping their bodies;
anyone holding a body recomputes the hash.  The prefixes keep a measurement
signature from ever passing for a tree head signature and back.

A key id is the hex SHA-256 of the raw 32-byte public key.  Which keys to
trust is the caller's decision (:class:`Keyring`); a signature that is valid
but from a key outside the keyring is reported as such, never as good.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from netvigil.evidence.jcs import CanonicalError, canonicalize

SIGNATURE_FIELD = "netvigil_signature"
ALGORITHM = "Ed25519"
MEASUREMENT_CONTEXT = b"netvigil measurement v1\n"
KEY_LINE_PREFIX = "ed25519"


class SignatureError(ValueError):
    """A signature that does not hold, or that cannot be checked; the message says why."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise SignatureError(f"{what} is not a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise SignatureError(f"{what} is not valid base64") from None


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()


def load_public(raw: bytes) -> Ed25519PublicKey:
    if len(raw) != 32:
        raise SignatureError(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True, slots=True)
class Signer:
    """A private key and its id; build with :meth:`generate` or :meth:`from_pem`."""

    private: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes) -> Signer:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise SignatureError("the key file does not hold an Ed25519 private key")
        return cls(key)

    def to_pem(self) -> bytes:
        return self.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())

    @property
    def public_key(self) -> bytes:
        return public_bytes(self.private.public_key())

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def key_line(self, comment: str = "") -> str:
        """The line a collector or reader adds to its trusted keys file."""
        return f"{KEY_LINE_PREFIX} {b64(self.public_key)} {comment}".rstrip()

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


@dataclass(frozen=True, slots=True)
class Keyring:
    """Public keys a reader trusts, by key id."""

    keys: Mapping[str, bytes]

    @classmethod
    def of(cls, public_keys: Iterable[bytes]) -> Keyring:
        return cls({key_id(k): k for k in public_keys})

    @classmethod
    def parse(cls, text: str, source: str = "keys file") -> Keyring:
        """Lines ``ed25519 <base64 public key> [comment]``; ``#`` starts a comment line."""
        keys = []
        for number, line in enumerate(text.splitlines(), 1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            if fields[0].lower() != KEY_LINE_PREFIX or len(fields) < 2:
                raise SignatureError(f"{source}:{number}: expected 'ed25519 <base64 public key>'")
            raw = unb64(fields[1], f"{source}:{number}: the public key")
            load_public(raw)
            keys.append(raw)
        return cls.of(keys)

    def __contains__(self, kid: object) -> bool:
        return kid in self.keys


def content_hash(measurement: Mapping[str, Any]) -> bytes:
    """SHA-256 of the RFC 8785 form of a measurement without its signature member."""
    body = {k: v for k, v in measurement.items() if k != SIGNATURE_FIELD}
    try:
        return hashlib.sha256(canonicalize(body)).digest()
    except CanonicalError as exc:
        raise SignatureError(f"the measurement has no canonical form: {exc}") from None


def sign_measurement(measurement: Mapping[str, Any], signer: Signer) -> dict[str, Any]:
    """A copy of the measurement with its signature member (replacing any earlier one)."""
    signature = signer.sign(MEASUREMENT_CONTEXT + content_hash(measurement))
    signed = {k: v for k, v in measurement.items() if k != SIGNATURE_FIELD}
    signed[SIGNATURE_FIELD] = {"alg": ALGORITHM, "key_id": signer.key_id, "public_key": b64(signer.public_key),
                               "signature": b64(signature)}
    return signed


@dataclass(frozen=True, slots=True)
class MeasurementSignature:
    """A signature that held: which key made it, over which content hash."""

    key_id: str
    public_key: bytes
    signature: bytes
    content_sha256: bytes


def signature_of(measurement: Mapping[str, Any]) -> dict[str, Any] | None:
    """The signature member, or None for an unsigned measurement (such as OONI's)."""
    member = measurement.get(SIGNATURE_FIELD)
    if member is None:
        return None
    if not isinstance(member, dict):
        raise SignatureError(f"{SIGNATURE_FIELD} is not an object")
    return member


def verify_measurement(measurement: Mapping[str, Any], keyring: Keyring | None) -> MeasurementSignature | None:
    """The checked signature, None when unsigned; :class:`SignatureError` when it does not hold.

    ``keyring`` None accepts any key whose signature holds (first use); otherwise
    the key must be in it.
    """
    member = signature_of(measurement)
    if member is None:
        return None
    if member.get("alg") != ALGORITHM:
        raise SignatureError(f"signature algorithm {str(member.get('alg'))[:40]!r}; only {ALGORITHM} is accepted")
    public = unb64(member.get("public_key"), "the signature's public key")
    signature = unb64(member.get("signature"), "the signature")
    kid = key_id(public)
    if member.get("key_id") != kid:
        raise SignatureError("the signature's key_id is not the SHA-256 of its public key")
    check_signature(public, signature, MEASUREMENT_CONTEXT + content_hash(measurement),
                    what="the measurement", keyring=keyring)
    return MeasurementSignature(kid, public, signature, content_hash(measurement))


def check_signature(public: bytes, signature: bytes, message: bytes, *, what: str, keyring: Keyring | None) -> None:
    """Raise :class:`SignatureError` unless ``signature`` by ``public`` holds over ``message``."""
    kid = key_id(public)
    if keyring is not None and kid not in keyring:
        raise SignatureError(f"{what} is signed by key {kid[:16]}…, which is not among the trusted keys: "
                             "it may come from an impostor probe (add the key only if you know whose it is)")
    try:
        load_public(public).verify(signature, message)
    except InvalidSignature:
        raise SignatureError(f"the signature over {what} does not match its content: "
                             f"it was changed after key {kid[:16]}… signed it") from None
