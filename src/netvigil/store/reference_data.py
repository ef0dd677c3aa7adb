"""Reading blockpage fingerprint files: the file edge of ``analysis.fingerprints``.

The reference files (OONI's blocking-fingerprints, Censored Planet's signature
lists) may not be redistributed, so netvigil never ships them: they are read at
run time from a shared data directory laid out as upstream publishes them.
Reading is forgiving on purpose: a malformed row or a bad regex in upstream
data is skipped and reported in ``FingerprintDB.skipped``, because one broken
pattern must not take the whole analysis down with it.

Each pattern is loaded as the text its source means.  The files are UTF-8,
read strictly: a row with bytes that are not UTF-8 is skipped and reported,
never patched with U+FFFD (that would invent a pattern).  The U+FFFD that
upstream patterns do contain is Go's stand-in for an undecodable byte, and is
loaded as such (:func:`netvigil.analysis.fingerprints.undecodable_byte_pattern`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from netvigil.analysis.fingerprints import Fingerprint, FingerprintDB, undecodable_byte_pattern

OONI_DNS_CSV = "fingerprints_dns.csv"
OONI_HTTP_CSV = "fingerprints_http.csv"
CP_BLOCKPAGE_JSON = "blockpage_signatures.json"
CP_FALSE_POSITIVE_JSON = "false_positive_signatures.json"

_OONI_DIR = Path("ooni-blocking-fingerprints")
_CP_DIR = Path("censoredplanet/assets-censoredplanet")
_REPO_ROOT = Path(__file__).resolve().parents[3]

# Censored Planet encodes the kind of blockpage in the id prefix; map it onto
# OONI's scope vocabulary (as OONI did when importing these signatures),
# except that "unknown" stays "unk" rather than being guessed national.
_CP_SCOPES = {
    "a_prod": "prod",
    "b_nat": "nat",
    "c_isp": "isp",
    "d_corp": "inst",
    "e_unk": "unk",
    "f_gen": "vbw",
}


def shared_data_dir() -> Path:
    """Where the shared reference data lives.

    ``$NETVIGIL_SHARED_DATA`` if set; else ``../shared/data`` from the current
    directory (the usual checkout layout); else the same path relative to the
    repository holding this file.  The directory may not exist.
    """
    configured = os.environ.get("NETVIGIL_SHARED_DATA")
    if configured:
        return Path(configured)
    from_cwd = Path.cwd() / ".." / "shared" / "data"
    if from_cwd.is_dir():
        return from_cwd.resolve()
    return (_REPO_ROOT / ".." / "shared" / "data").resolve()


def load_ooni_fingerprints(
    dns_csv: Path, http_csv: Path, *, skipped: list[str] | None = None
) -> list[Fingerprint]:
    """OONI fingerprints from both CSV files; bad rows are described in ``skipped``."""
    sink = [] if skipped is None else skipped
    return _read_ooni_csv(dns_csv, sink) + _read_ooni_csv(http_csv, sink)


def load_censoredplanet_signatures(
    blockpage_json: Path, false_positive_json: Path, *, skipped: list[str] | None = None
) -> list[Fingerprint]:
    """Censored Planet signatures, false positives first; bad lines go to ``skipped``."""
    sink = [] if skipped is None else skipped
    return _read_cp_false_positives(false_positive_json, sink) + _read_cp_blockpages(blockpage_json, sink)


def load_builtin_fingerprints(skipped: list[str] | None = None) -> list[Fingerprint]:
    """netvigil's own small set (``analysis/data/fingerprints.jsonl``), shipped with the package.

    A handful of well-documented national and product blockpage markers and CDN
    false positives, written by this project, so that a fresh install recognises
    the commonest blockpages before any upstream fingerprint file is installed.
    """
    text = resources.files("netvigil.analysis").joinpath("data/fingerprints.jsonl").read_text("utf-8")
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            found.append(Fingerprint(
                fingerprint_id=row["id"], source="netvigil", scope=row["scope"], location=row["location"],
                pattern_type=row["type"], pattern=row["pattern"], countries=tuple(row["countries"]),
                false_positive=row["scope"] == "fp"))
        except (ValueError, KeyError, TypeError) as exc:
            if skipped is not None:
                skipped.append(f"built-in fingerprints line {number}: {exc}")
    return found


def load_default_fingerprints(data_dir: Path | None = None) -> FingerprintDB:
    """netvigil's built-in fingerprints plus every upstream file that exists.

    Each of the four upstream files (OONI's two CSVs, Censored Planet's two
    signature files) is looked up first in ``$NETVIGIL_FINGERPRINTS_DIR`` (a flat
    folder holding updated files under their original names), then in
    ``data_dir`` (default :func:`shared_data_dir`) in the upstream layout.
    """
    root = shared_data_dir() if data_dir is None else data_dir
    readers: list[tuple[Path, str, Callable[[Path, list[str]], list[Fingerprint]]]] = [
        (_OONI_DIR, OONI_DNS_CSV, _read_ooni_csv),
        (_OONI_DIR, OONI_HTTP_CSV, _read_ooni_csv),
        (_CP_DIR, CP_FALSE_POSITIVE_JSON, _read_cp_false_positives),
        (_CP_DIR, CP_BLOCKPAGE_JSON, _read_cp_blockpages),
    ]
    skipped: list[str] = []
    fingerprints: list[Fingerprint] = []
    for folder, name, read in readers:
        path = _locate(root / folder, name)
        if path is None:
            continue
        try:
            fingerprints += read(path, skipped)
        except OSError as exc:
            skipped.append(f"{path}: unreadable: {exc}")
    # Upstream ids first: where both match, the verdict cites OONI's or Censored Planet's.
    return FingerprintDB(fingerprints + load_builtin_fingerprints(skipped), skipped)


def _locate(default_folder: Path, name: str) -> Path | None:
    override = os.environ.get("NETVIGIL_FINGERPRINTS_DIR")
    for folder in ([Path(override)] if override else []) + [default_folder]:
        if (folder / name).is_file():
            return folder / name
    return None


def _read_ooni_csv(path: Path, skipped: list[str]) -> list[Fingerprint]:
    fingerprints = []
    reader = csv.DictReader(io.StringIO(_read_utf8(path), newline=""))
    for row in reader:
        try:
            if any(_NOT_UTF8.search(value) for value in row.values() if isinstance(value, str)):
                raise ValueError("not valid UTF-8")
            fingerprints.append(_ooni_fingerprint(row))
        except ValueError as exc:
            skipped.append(f"{path.name}:{reader.line_num}: {exc}")
    return fingerprints


def _read_utf8(path: Path) -> str:
    """The file's text; bytes that are not UTF-8 stay visible as lone surrogates."""
    return path.read_bytes().decode("utf-8-sig", errors="surrogateescape")


_NOT_UTF8 = re.compile("[\udc80-\udcff]")


def _ooni_fingerprint(row: dict[str | None, str | None]) -> Fingerprint:
    """One CSV row; raises ValueError for a row that cannot be a fingerprint."""
    if None in row:
        raise ValueError("more fields than the header has")
    scope = _required(row, "scope").lower()
    pattern, pattern_type = undecodable_byte_pattern(
        row.get("pattern") or "", _required(row, "pattern_type").lower()
    )
    return Fingerprint(
        fingerprint_id=_required(row, "name"),
        source="ooni",
        scope=scope,
        location=_required(row, "location_found").lower(),
        pattern_type=pattern_type,
        pattern=pattern,
        countries=tuple(
            c.strip().upper() for c in (row.get("expected_countries") or "").split(",") if c.strip()
        ),
        false_positive=scope == "fp",
    )


def _required(row: dict[str | None, str | None], column: str) -> str:
    value = (row.get(column) or "").strip()
    if not value:
        raise ValueError(f"missing {column}")
    return value


def _read_cp_blockpages(path: Path, skipped: list[str]) -> list[Fingerprint]:
    return _read_cp_jsonl(path, False, skipped)


def _read_cp_false_positives(path: Path, skipped: list[str]) -> list[Fingerprint]:
    return _read_cp_jsonl(path, True, skipped)


def _read_cp_jsonl(path: Path, false_positive: bool, skipped: list[str]) -> list[Fingerprint]:
    """One ``{"fingerprint": id, "pattern": regex}`` object per non-blank line."""
    fingerprints = []
    for line_no, line in enumerate(_read_utf8(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            if _NOT_UTF8.search(line):
                raise ValueError("not valid UTF-8")
            fingerprints.append(_cp_fingerprint(json.loads(line), false_positive))
        except (ValueError, TypeError) as exc:  # ValueError includes json.JSONDecodeError
            skipped.append(f"{path.name}:{line_no}: {exc}")
    return fingerprints


def _cp_fingerprint(record: object, false_positive: bool) -> Fingerprint:
    if not isinstance(record, dict):
        raise TypeError("not a JSON object")
    fingerprint_id, pattern = record.get("fingerprint"), record.get("pattern")
    if not isinstance(fingerprint_id, str) or not fingerprint_id or not isinstance(pattern, str):
        raise TypeError("needs string 'fingerprint' and 'pattern'")
    prefix = "_".join(fingerprint_id.split("_", 2)[:2])
    pattern, pattern_type = undecodable_byte_pattern(pattern, "regexp")
    return Fingerprint(
        fingerprint_id=fingerprint_id,
        source="censoredplanet",
        scope="fp" if false_positive else _CP_SCOPES.get(prefix, "unk"),
        location="body",
        pattern_type=pattern_type,
        pattern=pattern,
        false_positive=false_positive,
    )
