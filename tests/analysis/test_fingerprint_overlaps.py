"""The whole-set check: false-positive signatures against every blockpage fingerprint's example."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from netvigil.analysis.fingerprint_overlaps import (
    Response,
    example_response,
    find_overlaps,
    overlap_report,
    regex_example,
)
from netvigil.analysis.fingerprints import REGEX_FLAGS, Fingerprint, FingerprintDB
from netvigil.model.body import decode_body, decode_headers
from netvigil.store import reference_data as rd

EXAMPLES = {
    # pattern: example
    r"blocked\.": "blocked.",
    r"URL .* Sp.*er Gate": "URL  Sper Gate",
    r"(?:forbidden|verboten) page": "forbidden page",
    r"colou?r [0-9]+ \w\s\S": "color 0 a a",
    r"[^<]+ denied": "x denied",
    r"(?i)Access": "Access",
    r"^<html>$": "<html>",
    r"(a)\1": None,  # back-references are not written
}


@pytest.mark.parametrize("pattern", EXAMPLES)
def test_regex_example(pattern: str) -> None:
    example = regex_example(pattern)
    assert example == EXAMPLES[pattern]
    if example is not None:
        assert re.search(pattern, example, REGEX_FLAGS)


def test_example_responses_by_location() -> None:
    body = Fingerprint("b", "ooni", "isp", "body", "contains", "Blocked by X")
    header = Fingerprint("h", "ooni", "isp", "header.location", "prefix", "http://block")
    dns = Fingerprint("d", "ooni", "isp", "dns", "full", "10.0.0.1")
    assert example_response(body) == ("Blocked by X", [])
    assert example_response(header) == (None, [("location", "http://block")])
    assert example_response(dns) is None


def test_overlap_resolution_on_hand_made_fingerprints() -> None:
    fps = [
        Fingerprint("cp.fp_redirect", "ooni", "fp", "body", "contains", "redirect", (), True),
        Fingerprint("ooni.xx_1", "ooni", "isp", "body", "contains", "we redirect you to the blockpage"),
        Fingerprint("d_corp_y", "censoredplanet", "inst", "body", "regexp", "redirected from a bad site"),
        Fingerprint("ooni.xx_2", "ooni", "isp", "body", "contains", "Blocked by XX"),
    ]
    overlaps, checked = find_overlaps(FingerprintDB(fps), fps)
    assert checked == 3
    assert [(o.blockpage_id, o.specific, o.decided_by) for o in overlaps] == [
        ("ooni.xx_1", True, "ooni.xx_1"),
        ("d_corp_y", False, "cp.fp_redirect"),
    ]
    report = overlap_report(overlaps, checked)
    assert "specific blockpages decided by a false positive: 0" in report
    assert "generic signatures a false positive shadows: 1" in report


# --- the real reference set ------------------------------------------------------

DATA = rd.shared_data_dir()
MEASUREMENTS = DATA / "ooni-backend/fastpath/fastpath/tests/data"


@pytest.fixture(scope="module")
def real_set() -> tuple[FingerprintDB, list[Fingerprint]]:
    if not DATA.is_dir():
        pytest.skip(f"shared data directory {DATA} is absent")
    fps = rd.load_ooni_fingerprints(
        DATA / "ooni-blocking-fingerprints/fingerprints_dns.csv",
        DATA / "ooni-blocking-fingerprints/fingerprints_http.csv",
    )
    fps += rd.load_censoredplanet_signatures(
        DATA / "censoredplanet/assets-censoredplanet/blockpage_signatures.json",
        DATA / "censoredplanet/assets-censoredplanet/false_positive_signatures.json",
    )
    fps += rd.load_builtin_fingerprints()
    return FingerprintDB(fps), fps


def known_pages(folder: Path) -> list[tuple[str, Response]]:
    """Every HTTP response in the real OONI measurements of the shared data."""
    pages: list[tuple[str, Response]] = []
    for path in sorted(folder.glob("*.json")):
        try:
            measurement = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        keys = measurement.get("test_keys") if isinstance(measurement, dict) else None
        for n, request in enumerate((keys or {}).get("requests") or []):
            response = request.get("response") or {}
            body = decode_body(response.get("body"))
            headers = list(decode_headers(response.get("headers"), response.get("headers_list")))
            if body or headers:
                pages.append((f"{path.name}#{n}", (body, headers)))
    return pages


def test_no_false_positive_decides_a_specific_blockpage(
    real_set: tuple[FingerprintDB, list[Fingerprint]], capsys: pytest.CaptureFixture[str]
) -> None:
    db, fps = real_set
    pages = known_pages(MEASUREMENTS)
    overlaps, checked = find_overlaps(db, fps, pages)
    blockpages = [fp for fp in fps if not fp.false_positive and fp.location != "dns"]
    assert len(pages) >= 20 and checked >= len(blockpages) * 0.98 + len(pages)
    specific = [o for o in overlaps if o.specific]
    assert len(specific) >= 8  # the check does find overlaps in the real set
    assert all(o.blockpage_decides for o in specific), [o for o in specific if not o.blockpage_decides]
    # The rule, overlap by overlap: a false positive decides exactly when no specific blockpage matches.
    assert all(o.blockpage_decides == o.decided_by_specific for o in overlaps)
    with capsys.disabled():
        print("\n" + overlap_report(overlaps, checked))
