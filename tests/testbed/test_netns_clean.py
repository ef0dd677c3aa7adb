"""Namespace mode under SIGTERM and SIGKILL, and ``testbed clean`` (issue 10).

* SIGTERM to ``testbed run`` is handled as Ctrl-C: exit 130, nothing left;
* the CA private keys leave the disk as soon as the services have loaded them,
  so a run killed with SIGKILL leaves none;
* ``testbed clean`` removes what a dead run left (its namespaces with their
  veths and processes, its temporary folder) and never touches a live run's.

Other testbeds may run on this machine at the same time: these tests create
their own namespaces under process ids they own, and only ever look at those.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from netns_support import assert_nothing_left, machine_state, needs_namespaces
from testbed_helpers import scenario_from

from netvigil.cli.testbed import add_testbed_parser
from netvigil.testbed.netns.testbed import TEMP_PREFIX, NamespaceTestbed
from netvigil.testbed.netns.clean import pid_alive
from netvigil.testbed.netns.commands import CommandFailed, run

pytestmark = needs_namespaces

REPO = Path(__file__).resolve().parents[2]
SCENARIO_TEXT = """
[clients.inside]
[sites."news.example"]
expect = "ok"
[sites."hole.example"]
expect = "tcp.timeout"
[[tcp]]
domain = "hole.example"
action = "blackhole"
"""
CLI = ("import sys; from argparse import ArgumentParser; "
       "from netvigil.cli.testbed import add_testbed_parser; p = ArgumentParser(); "
       "add_testbed_parser(p.add_subparsers()); a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))")
CA_KEYS = ("authority-trusted.key", "authority-censor.key")


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="netvigil")
    add_testbed_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["testbed", *argv])
    return args.func(args)


def _spawn(tmp_path: Path, command: str) -> subprocess.Popen[str]:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text('[scenario]\nname = "t"\ndescription = "test"\n' + SCENARIO_TEXT)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.Popen([sys.executable, "-c", CLI, "testbed", command, "--mode", "netns", str(scenario)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_until_up(child: subprocess.Popen[str], services: int = 4) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = machine_state(child.pid)
        if len(state.namespaces) == 3 and len(state.processes) >= services and state.folders:
            return
        time.sleep(0.05)
    raise AssertionError("the testbed never came up")


def test_sigterm_during_testbed_run_is_handled_like_ctrl_c(tmp_path: Path) -> None:
    child = _spawn(tmp_path, "run")
    try:
        before = machine_state(os.getpid())
        _wait_until_up(child)
        deadline = time.monotonic() + 30
        while len(machine_state(child.pid).processes) <= 4 and time.monotonic() < deadline:
            time.sleep(0.05)  # until a probe runs too (the blackholed site keeps it busy)
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, out
    assert "interrupted; the testbed was taken down" in out
    assert_nothing_left(before, child.pid)


def test_no_ca_private_key_is_on_disk_while_a_run_is_up() -> None:
    seen: dict[str, list[str]] = {}

    async def main() -> None:
        async with NamespaceTestbed(scenario_from(SCENARIO_TEXT)) as bed:
            assert bed.folder is not None
            seen["keys"] = [p.name for p in bed.folder.rglob("authority-*.key")]
            seen["certificate"] = [p.name for p in bed.folder.glob("testbed-ca.pem")]

    asyncio.run(main())
    assert seen == {"keys": [], "certificate": ["testbed-ca.pem"]}


def test_sigkill_leaves_no_ca_key_and_clean_removes_the_rest(tmp_path: Path) -> None:
    child = _spawn(tmp_path, "up")
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if "Ctrl-C stops it" in line:
                break
        _wait_until_up(child)
        up = machine_state(child.pid)
        child.kill()  # SIGKILL: no teardown at all
        child.wait(timeout=10)
        [folder] = up.folders
        left = Path(tempfile.gettempdir()) / folder
        assert left.is_dir() and not [k for k in CA_KEYS if (left / k).exists()]
        assert machine_state(child.pid).namespaces == up.namespaces  # the leak `clean` exists for
        assert _cli("clean") == 0
        deadline = time.monotonic() + 15
        while machine_state(child.pid).processes and time.monotonic() < deadline:
            time.sleep(0.1)  # services end on their stdin's EOF, or were killed by clean
        after = machine_state(child.pid)
        assert (after.namespaces, after.folders, after.processes) == (frozenset(), frozenset(), frozenset())
    finally:
        if child.poll() is None:
            child.kill()


def _dead_pid() -> int:
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert not pid_alive(gone.pid)
    return gone.pid


def _fake_run(pid: int) -> tuple[list[str], Path, subprocess.Popen[bytes]]:
    """What a run of process ``pid`` leaves: two namespaces joined by a veth, a process inside, a folder."""
    router, client = f"nv-{pid}-0-censor", f"nv-{pid}-0-c0"
    for name in (router, client):
        run(["ip", "netns", "add", name])
    run(["ip", "-n", router, "link", "add", "c0", "type", "veth", "peer", "name", "uplink", "netns", client])
    inside = subprocess.Popen(["ip", "netns", "exec", client, "sleep", "300"], stdin=subprocess.DEVNULL)
    folder = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}nv-{pid}-0-"))
    (folder / "authority-trusted.key").write_text("a key that must not outlive its run")
    return [router, client], folder, inside


def _namespaces() -> set[str]:
    return set(run(["ip", "netns", "list"]).split())


def test_clean_removes_only_what_dead_runs_left(capsys: pytest.CaptureFixture[str]) -> None:
    live = subprocess.Popen(["sleep", "300"])
    dead = _dead_pid()
    made: list[str] = []
    try:
        dead_names, dead_folder, dead_inside = _fake_run(dead)
        made += dead_names
        live_names, live_folder, live_inside = _fake_run(live.pid)
        made += live_names
        assert _cli("clean") == 0
        printed = capsys.readouterr().out
        assert all(f"removed namespace {n}" in printed for n in dead_names)
        assert dead_inside.wait(timeout=10) != 0  # the process left inside was killed
        names = _namespaces()
        assert not names & set(dead_names) and not dead_folder.exists()
        assert set(live_names) <= names and live_folder.exists() and live_inside.poll() is None
        live.kill()
        live.wait()
        assert _cli("clean") == 0  # its process gone, the second run's leftovers go too
        assert not _namespaces() & set(live_names) and not live_folder.exists()
        assert live_inside.wait(timeout=10) != 0
    finally:
        if live.poll() is None:
            live.kill()
        for name in made:
            try:
                run(["ip", "netns", "delete", name])
            except CommandFailed:
                pass
