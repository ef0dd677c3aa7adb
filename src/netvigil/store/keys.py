"""Private key files: created on first use, readable by their owner only (0600).

A key file is written once, atomically (a temporary file opened with mode 0600,
then linked into place), so two processes starting together cannot both create
one and a crash cannot leave half a key.  An existing key file that others can
read is refused rather than used: a probe's signatures are worth only as much
as the secrecy of its key.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from netvigil.evidence.signing import SignatureError, Signer


class KeyFileError(Exception):
    """A key file that cannot be used; the message says what to do."""


def load_or_create(path: Path) -> tuple[Signer, bool]:
    """The key at ``path`` and whether it was just created."""
    if path.exists():
        return load(path), False
    path.parent.mkdir(parents=True, exist_ok=True)
    signer = Signer.generate()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(signer.to_pem())
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)  # fails if another process created the key meanwhile: use theirs
        except FileExistsError:
            return load(path), False
    finally:
        tmp.unlink(missing_ok=True)
    return signer, True


def load(path: Path) -> Signer:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(f"{path} is readable by other users (mode {mode:04o}); run `chmod 600 {path}`")
    try:
        return Signer.from_pem(path.read_bytes())
    except (ValueError, SignatureError) as exc:
        raise KeyFileError(f"{path} does not hold an Ed25519 private key: {exc}") from None


PROBE_KEY_ENV = "NETVIGIL_PROBE_KEY"


def default_probe_key_path() -> Path:
    """``$NETVIGIL_PROBE_KEY``, else ``<XDG_DATA_HOME or ~/.local/share>/netvigil/probe-key.pem``."""
    if os.environ.get(PROBE_KEY_ENV):
        return Path(os.environ[PROBE_KEY_ENV])
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "netvigil" / "probe-key.pem"
