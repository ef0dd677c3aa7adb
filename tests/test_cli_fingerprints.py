"""`netvigil eval fingerprints`: the overlap report over the installed fingerprint set."""

from __future__ import annotations

import pytest

from netvigil.cli import main
from netvigil.store.reference_data import shared_data_dir


@pytest.mark.skipif(not shared_data_dir().is_dir(), reason="shared data absent")
def test_eval_fingerprints_reports_overlaps_and_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "fingerprints"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("examples checked: ")
    assert int(lines[0].split()[2].rstrip(";")) >= 1800
    assert lines[1] == "specific blockpages decided by a false positive: 0"
    assert any(line.startswith("ooni.th_6 [specific, isp] x ") for line in lines)
