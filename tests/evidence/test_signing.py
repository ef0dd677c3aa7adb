"""Measurement signatures and tree heads: what holds, and what each kind of tampering says."""

from __future__ import annotations

import copy
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netvigil.evidence.jcs import CanonicalError, canonicalize
from netvigil.evidence.records import EvidenceError, LogEntry, sign_head
from netvigil.evidence.signing import (
    SIGNATURE_FIELD,
    Keyring,
    SignatureError,
    Signer,
    sign_measurement,
    verify_measurement,
)
from netvigil.store import keys

MEASUREMENT = {"measurement_start_time": "2026-11-28 10:00:00", "probe_cc": "IR", "probe_asn": "AS12880",
               "test_name": "web_connectivity", "input": "https://example.org/",
               "test_keys": {"blocking": "dns", "accessible": False, "queries": [{"t": 0.125}]}}


def test_signature_holds_and_survives_reserialisation() -> None:
    signer = Signer.generate()
    signed = sign_measurement(MEASUREMENT, signer)
    reordered = dict(reversed(list(signed.items())))  # key order is not content: JCS sorts it away
    checked = verify_measurement(reordered, Keyring.of([signer.public_key]))
    assert checked is not None and checked.key_id == signer.key_id


def test_unsigned_measurement_is_reported_as_unsigned() -> None:
    assert verify_measurement(MEASUREMENT, None) is None


TAMPERING = {
    "changed value": (lambda m: m["test_keys"].__setitem__("blocking", False), "changed after"),
    "added member": (lambda m: m.__setitem__("probe_network_name", "x"), "changed after"),
    "changed number": (lambda m: m["test_keys"]["queries"][0].__setitem__("t", 0.126), "changed after"),
    "key id of another key": (lambda m: m[SIGNATURE_FIELD].__setitem__("key_id", "00" * 32), "key_id"),
    "other algorithm": (lambda m: m[SIGNATURE_FIELD].__setitem__("alg", "RSA"), "only Ed25519"),
    "signature not base64": (lambda m: m[SIGNATURE_FIELD].__setitem__("signature", "%%%"), "base64"),
}


@pytest.mark.parametrize("name", TAMPERING)
def test_tampering_is_detected_with_a_reason(name: str) -> None:
    change, message = TAMPERING[name]
    signed = copy.deepcopy(sign_measurement(MEASUREMENT, Signer.generate()))
    change(signed)
    with pytest.raises(SignatureError, match=message):
        verify_measurement(signed, None)


def test_unknown_key_is_refused_even_when_the_signature_holds() -> None:
    trusted, stranger = Signer.generate(), Signer.generate()
    signed = sign_measurement(MEASUREMENT, stranger)
    with pytest.raises(SignatureError, match="not among the trusted keys"):
        verify_measurement(signed, Keyring.of([trusted.public_key]))


def test_keyring_file_lines() -> None:
    signer = Signer.generate()
    ring = Keyring.parse(f"# probes\n{signer.key_line('probe in Tehran')}\n\n")
    assert signer.key_id in ring
    with pytest.raises(SignatureError, match="keys:2: expected"):
        Keyring.parse("# x\nssh-rsa AAAA\n", "keys")


def test_tree_head_signature_and_forgery() -> None:
    log_key, other = Signer.generate(), Signer.generate()
    head = sign_head(log_key, tree_size=5, timestamp=1_700_000_000_000, root_hash=b"\x11" * 32)
    head.verify(log_key.public_key)
    forged = sign_head(other, tree_size=5, timestamp=head.timestamp, root_hash=b"\x22" * 32)
    with pytest.raises(EvidenceError, match="names log key"):
        forged.verify(log_key.public_key)
    grown = type(head)(tree_size=6, timestamp=head.timestamp, root_hash=head.root_hash,
                       log_key_id=head.log_key_id, signature=head.signature)
    with pytest.raises(EvidenceError, match="does not match its content"):
        grown.verify(log_key.public_key)


def test_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "probe.pem"
    first, created = keys.load_or_create(path)
    assert created and stat.S_IMODE(path.stat().st_mode) == 0o600
    again, created_again = keys.load_or_create(path)
    assert not created_again and again.key_id == first.key_id
    os.chmod(path, 0o644)
    with pytest.raises(keys.KeyFileError, match="chmod 600"):
        keys.load_or_create(path)


hexes = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


@given(st.text(), hexes, st.none() | st.text(), st.none() | hexes, st.none() | st.text())
def test_leaf_data_is_the_rfc8785_form_of_the_entry(uid: str, sha: str, kid: str | None, content: str | None,
                                                     signature: str | None) -> None:
    entry = LogEntry(uid=uid, sha256=sha, key_id=kid, content_sha256=content, signature=signature)
    try:
        expected = canonicalize(entry.to_dict())
    except CanonicalError:
        with pytest.raises(CanonicalError):
            entry.leaf_data()
        return
    assert entry.leaf_data() == expected
