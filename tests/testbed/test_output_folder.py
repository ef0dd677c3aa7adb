"""``testbed run --output`` (issue 10): a missing folder is created, an unusable path refused before the work."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import orjson
import pytest

from netvigil.cli.testbed import add_testbed_parser

SCENARIO = """[scenario]
name = "folder"
description = "one site"
[sites."fine.example"]
expect = "ok"
"""


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="netvigil")
    add_testbed_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["testbed", *argv])
    return args.func(args)


def test_output_into_a_missing_folder_creates_it(tmp_path: Path) -> None:
    scenario, output = tmp_path / "s.toml", tmp_path / "not" / "yet" / "m.jsonl"
    scenario.write_text(SCENARIO)
    assert _cli("run", str(scenario), "--output", str(output)) == 0
    [line] = output.read_bytes().splitlines()
    assert orjson.loads(line)["annotations"]["testbed_expected"] == "ok"


def test_an_unwritable_output_is_refused_before_any_measurement(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    scenario, blocker = tmp_path / "s.toml", tmp_path / "a-file"
    scenario.write_text(SCENARIO)
    blocker.write_text("not a folder")
    started = time.monotonic()
    assert _cli("run", str(scenario), "--output", str(blocker / "m.jsonl")) == 2
    captured = capsys.readouterr()
    assert "cannot write" in captured.err and str(blocker) in captured.err
    assert "verdicts as expected" not in captured.out  # refused before the testbed ran
    assert time.monotonic() - started < 5
