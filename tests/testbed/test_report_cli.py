"""The report (confusion matrix) and the ``testbed`` subcommands' output and exit codes."""

from __future__ import annotations

import argparse
from pathlib import Path

import orjson
import pytest

from netvigil.model.verdict import Outcome, Technique
from netvigil.cli.testbed import add_testbed_parser
from netvigil.testbed.scenarios.library import library_names
from netvigil.testbed.runner import SiteResult, UnavailableMode, backend_for, format_confusion

T = Technique


def _result(expected: Technique, got: Technique) -> SiteResult:
    return SiteResult(client="probe", domain="a.example", url="https://a.example:1/", expected=expected,
                      got=got, outcome=Outcome.BLOCKED, rule="r@1", measurement={})


def test_the_confusion_matrix_counts_expected_against_got() -> None:
    text = format_confusion([_result(T.DNS_NXDOMAIN, T.DNS_NXDOMAIN), _result(T.DNS_NXDOMAIN, T.DNS_NXDOMAIN),
                             _result(T.OK, T.DNS_NXDOMAIN), _result(T.OK, T.OK)])
    header, nxdomain, ok = text.splitlines()
    assert header.split()[-2:] == ["dns.nxdomain", "ok"]
    assert nxdomain.split() == ["dns.nxdomain", "2", "."]
    assert ok.split() == ["ok", "1", "1"]
    assert format_confusion([]) == "(no sites)"


def test_modes_that_do_not_exist_are_refused() -> None:
    assert backend_for("loopback") is not None
    assert backend_for("netns") is not None
    with pytest.raises(UnavailableMode, match="no such mode"):
        backend_for("docker")


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="netvigil")
    add_testbed_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["testbed", *argv])
    return args.func(args)


SCENARIO = """[scenario]
name = "wrong"
description = "one verdict is expected wrongly"
[sites."fine.example"]
expect = "ok"
[sites."nx.example"]
expect = "ok"
[[dns]]
domain = "nx.example"
action = "nxdomain"
"""


def test_run_exits_1_on_a_wrong_verdict_and_keeps_measurements(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    scenario, output = tmp_path / "wrong.toml", tmp_path / "m.jsonl"
    scenario.write_text(SCENARIO)
    assert _cli("run", str(scenario), "--output", str(output)) == 1
    out = capsys.readouterr().out
    assert "FAIL probe      nx.example" in out and "expected ok" in out and "got dns.nxdomain" in out
    assert "1 of 2 verdicts as expected" in out
    lines = [orjson.loads(line) for line in output.read_bytes().splitlines()]
    assert sorted(m["annotations"]["testbed_expected"] for m in lines) == ["ok", "ok"]
    assert {m["input"].split("/")[2].split(":")[0] for m in lines} == {"fine.example", "nx.example"}


def test_run_exits_0_when_every_verdict_matches(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "right.toml"
    scenario.write_text(SCENARIO.replace('[sites."nx.example"]\nexpect = "ok"',
                                         '[sites."nx.example"]\nexpect = "dns.nxdomain"'))
    assert _cli("run", str(scenario)) == 0
    assert "2 of 2 verdicts as expected" in capsys.readouterr().out


def test_run_exits_2_on_a_bad_file_or_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(SCENARIO.replace('expect = "ok"', 'expect = "fine"', 1))
    assert _cli("run", str(bad)) == 2
    assert "bad.toml, line 5: in [sites.\"fine.example\"]" in capsys.readouterr().err
    assert _cli("run", "atlantis") == 2
    from netvigil.testbed.netns import testbed as netns

    monkeypatch.setattr(netns, "unavailable_reason", lambda: "it needs root (as on this pretend machine)")
    assert _cli("run", "controls", "--mode", "netns") == 2
    assert "testbed mode 'netns': it needs root" in capsys.readouterr().err
    assert _cli("up", "controls", "--mode", "netns") == 2


def test_list_names_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli("list") == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()] == library_names()
