"""Certificates of a testbed run: a CA the probe trusts, and one it does not.

Every run mints its own keys (ECDSA P-256: fast to generate, accepted by
OpenSSL, curl and Python's ``ssl``), so nothing secret outlives the run.  The
**testbed CA** signs the origins' certificates and its PEM file is what the
probe, the helper and curl are told to trust.  The **censor CA** is never
trusted: it signs the certificates a censor presents when it intercepts TLS,
so an intercepted handshake fails exactly as a real one would
(``ssl_unknown_authority``).

Namespace mode runs its servers as separate processes, which must sign with
the same authorities: :meth:`TestbedPKI.save` writes both (keys included,
readable by the owner only) into the run's private folder, and
:meth:`TestbedPKI.load` reads them back there.
"""

from __future__ import annotations

import datetime as dt
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_DAY = dt.timedelta(days=1)
TRUSTED_NAME = "netvigil testbed CA"
CENSOR_NAME = "netvigil testbed censor CA (untrusted)"
_TRUSTED_STEM = "authority-trusted"
_CENSOR_STEM = "authority-censor"


@dataclass(frozen=True, slots=True)
class Authority:
    name: str
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def create(cls, name: str) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                             x509.NameAttribute(NameOID.ORGANIZATION_NAME, "netvigil testbed")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _DAY).not_valid_after(now + 30 * _DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(name, key, cert)

    def issue(self, names: tuple[str, ...], *, expired: bool = False) -> tuple[bytes, bytes]:
        """A server certificate for ``names`` (PEM chain, PEM key); ``expired`` ended yesterday."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        start, end = (now - 60 * _DAY, now - _DAY) if expired else (now - _DAY, now + 30 * _DAY)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self.certificate.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                           critical=False)
            .sign(self.key, hashes.SHA256())
        )
        chain = cert.public_bytes(serialization.Encoding.PEM)
        pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return chain, pem_key

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def save(self, stem: Path) -> None:
        """Write the key (owner-only) and the certificate as ``stem.key`` and ``stem.crt``."""
        key = stem.with_suffix(".key")
        key.touch(mode=0o600)
        key.write_bytes(self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        stem.with_suffix(".crt").write_bytes(self.pem())

    @classmethod
    def load(cls, name: str, stem: Path) -> Authority:
        key = serialization.load_pem_private_key(stem.with_suffix(".key").read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise TypeError(f"{stem}.key is not an EC key")
        return cls(name, key, x509.load_pem_x509_certificate(stem.with_suffix(".crt").read_bytes()))


class TestbedPKI:
    """The run's two authorities and the server contexts they sign, kept in ``folder``."""

    __test__ = False  # not a pytest test class

    def __init__(self, folder: Path, authorities: tuple[Authority, Authority] | None = None) -> None:
        self.folder = folder
        self.trusted, self.censor = authorities or (Authority.create(TRUSTED_NAME),
                                                    Authority.create(CENSOR_NAME))
        self.ca_file = folder / "testbed-ca.pem"
        if authorities is None:
            self.ca_file.write_bytes(self.trusted.pem())
        self._contexts: dict[tuple[str, str, bool], ssl.SSLContext] = {}

    def save(self) -> None:
        """Keep both authorities in ``folder`` for :meth:`load` in another process."""
        self.trusted.save(self.folder / _TRUSTED_STEM)
        self.censor.save(self.folder / _CENSOR_STEM)

    def forget_keys(self) -> None:
        """Delete the authorities' keys from ``folder`` once every process that needs them has loaded
        them: a run killed later (SIGKILL) leaves no CA private key on disk."""
        for stem in (_TRUSTED_STEM, _CENSOR_STEM):
            (self.folder / stem).with_suffix(".key").unlink(missing_ok=True)

    @classmethod
    def load(cls, folder: Path, scratch: Path) -> TestbedPKI:
        """The authorities :meth:`save` kept in ``folder``; server certificates go to ``scratch``."""
        authorities = (Authority.load(TRUSTED_NAME, folder / _TRUSTED_STEM),
                       Authority.load(CENSOR_NAME, folder / _CENSOR_STEM))
        pki = cls(scratch, authorities)
        pki.ca_file = folder / "testbed-ca.pem"
        return pki

    def server_context(self, name: str, *, expired: bool = False) -> ssl.SSLContext:
        """A TLS server context for ``name``, signed by the trusted CA."""
        return self._context(self.trusted, name, expired)

    def interception_context(self, name: str) -> ssl.SSLContext:
        """A TLS server context for ``name``, signed by the untrusted censor CA."""
        return self._context(self.censor, name, False)

    def _context(self, authority: Authority, name: str, expired: bool) -> ssl.SSLContext:
        cache_key = (authority.name, name, expired)
        cached = self._contexts.get(cache_key)
        if cached is not None:
            return cached
        chain, key = authority.issue((name,), expired=expired)
        stem = f"{len(self._contexts):03d}-{name}"
        cert_file, key_file = self.folder / f"{stem}.crt", self.folder / f"{stem}.key"
        cert_file.write_bytes(chain)
        key_file.write_bytes(key)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        self._contexts[cache_key] = context
        return context
