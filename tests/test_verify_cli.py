"""``netvigil keys`` and ``netvigil verify`` input handling (the evidence itself: tests/api/test_transparency.py)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from netvigil.cli import main
from netvigil.evidence.signing import Keyring


def test_keys_creates_the_probe_key_once_and_prints_a_trust_line(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "k" / "probe.pem"
    assert main(["keys", "--key", str(key)]) == 0
    line = capsys.readouterr().out.strip()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    ring = Keyring.parse(line)
    assert main(["keys", "--key", str(key)]) == 0
    assert capsys.readouterr().out.strip() == line and len(ring.keys) == 1


UNUSABLE = {
    "report without evidence": ("r.html", "<!doctype html><html><body>no block</body></html>", "no netvigil evidence"),
    "damaged evidence block": ("r.html", ('<html><script type="application/json" id="netvigil-evidence">{oops'
                               "</script></html>"), "not valid JSON"),
    "bundle without entries": ("b.json", '{"format": "netvigil-evidence/1"}', "no list of entries"),
}


@pytest.mark.parametrize("name", UNUSABLE)
def test_unusable_input_exits_2_with_a_reason(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    filename, text, reason = UNUSABLE[name]
    path = tmp_path / filename
    path.write_text(text)
    assert main(["verify", str(path)]) == 2
    assert reason in capsys.readouterr().err
