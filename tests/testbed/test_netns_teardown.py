"""Namespace mode leaves nothing behind, however it ends.

"Nothing" is compared on :func:`netns_support.machine_state`: the run's
network namespaces, service and probe processes and temporary folder, and
the interfaces, routes and iptables rules of the machine's own namespace.
Each case also checks that the testbed really came up (its namespaces and
processes existed while it ran).  The Ctrl-C cases run the real command in a
child process and send it SIGINT.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from netns_support import MachineState, assert_nothing_left, machine_state, needs_namespaces
from testbed_helpers import scenario_from

from netvigil.testbed.netns.testbed import NamespaceTestbed
from netvigil.testbed.netns.commands import CommandFailed, in_namespace, run
from netvigil.testbed.scenarios.scenario import Scenario

pytestmark = needs_namespaces

REPO = Path(__file__).resolve().parents[2]
SCENARIO_TEXT = """
[clients.inside]
[clients.outside]
[sites."news.example"]
expect = "ok"
[sites."hole.example"]
expect = "tcp.timeout"
[sites."slow.example"]
large_file = 4000000
expect = "throttling"
[[tcp]]
domain = "hole.example"
action = "blackhole"
[[tls]]
sni = "news.example"
action = "intercept"
[[throttle]]
domain = "slow.example"
rate = "16 KiB/s"
"""
CLI = ("import sys; from argparse import ArgumentParser; "
       "from netvigil.cli.testbed import add_testbed_parser; p = ArgumentParser(); "
       "add_testbed_parser(p.add_subparsers()); a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))")
Body = Callable[[NamespaceTestbed], Awaitable[None]]


def _scenario() -> Scenario:
    return scenario_from(SCENARIO_TEXT)


ME = os.getpid()


def _assert_clean_after(body: Body, raises: type[BaseException] | None) -> None:
    before = machine_state(ME)
    seen: dict[str, MachineState] = {}

    async def main() -> None:
        async with NamespaceTestbed(_scenario()) as bed:
            seen["up"] = machine_state(ME)
            await body(bed)

    if raises is None:
        asyncio.run(main())
    else:
        with pytest.raises(raises):
            asyncio.run(main())
    up = seen["up"]
    assert len(up.namespaces) == 4, "the testbed did not come up: router, internet, two clients"
    assert len(up.processes) == 4, "origins, resolver, censor and helper should run"
    assert len(up.folders) == 1
    assert_nothing_left(before, ME)


async def _nothing(bed: NamespaceTestbed) -> None:
    await asyncio.sleep(0)


async def _fail(bed: NamespaceTestbed) -> None:
    raise RuntimeError("the test failed inside the testbed")


async def _measuring_then_fail(bed: NamespaceTestbed) -> None:
    """Leave probes running (one stuck on a blackholed site), then fail."""
    from netvigil.testbed.runner import probe_config

    config = probe_config(bed.endpoints("inside"), "ZZ")
    probes = [asyncio.create_task(bed.measure("inside", url, config))
              for url in ("https://hole.example/", "https://slow.example/")]
    await asyncio.sleep(1.0)
    assert probes[0].done() is False
    for probe in probes:
        probe.cancel()
    await asyncio.gather(*probes, return_exceptions=True)
    raise RuntimeError("failed with probes under way")


async def _interrupt(bed: NamespaceTestbed) -> None:
    raise KeyboardInterrupt


def test_nothing_is_left_after_success() -> None:
    _assert_clean_after(_nothing, None)


def test_nothing_is_left_after_failure() -> None:
    _assert_clean_after(_fail, RuntimeError)


def test_nothing_is_left_after_failure_with_probes_under_way() -> None:
    _assert_clean_after(_measuring_then_fail, RuntimeError)


def test_nothing_is_left_after_a_timeout() -> None:
    async def hang(bed: NamespaceTestbed) -> None:
        await asyncio.wait_for(asyncio.Event().wait(), 0.2)

    _assert_clean_after(hang, TimeoutError)


def test_nothing_is_left_after_a_keyboard_interrupt() -> None:
    _assert_clean_after(_interrupt, KeyboardInterrupt)


def test_nothing_is_left_when_bringing_up_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rules are loaded last: a failure there must take down services and namespaces."""
    def refuse(self: NamespaceTestbed, *args: object) -> None:
        assert len(machine_state(ME).namespaces) == 4 and len(self.services) == 4
        run(in_namespace(self.layout.router if self.layout else "", ["iptables-restore"]), stdin="*nonsense\n")

    monkeypatch.setattr(NamespaceTestbed, "_install_rules", refuse)
    before = machine_state(ME)

    async def main() -> None:
        async with NamespaceTestbed(_scenario()):
            pass

    with pytest.raises(CommandFailed, match="iptables-restore"):
        asyncio.run(main())
    assert_nothing_left(before, ME)


def test_nothing_is_left_when_a_service_cannot_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from netvigil.testbed.netns import testbed as netns

    monkeypatch.setattr(netns, "MODULE", "netvigil.testbed.no_such_module")
    before = machine_state(ME)

    async def main() -> None:
        async with NamespaceTestbed(_scenario()):
            pass

    with pytest.raises(Exception, match="no_such_module"):
        asyncio.run(main())
    assert_nothing_left(before, ME)


def _spawn(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text('[scenario]\nname = "t"\ndescription = "test"\n' + SCENARIO_TEXT)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.Popen([sys.executable, "-c", CLI, "testbed", *args, "--mode", "netns", str(scenario)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_until_up(child: subprocess.Popen[str]) -> None:
    """Until the child's testbed has its four namespaces and its four services."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = machine_state(child.pid)
        if len(state.namespaces) == 4 and len(state.processes) >= 4:
            return
        time.sleep(0.05)
    raise AssertionError("the testbed never came up")


def test_ctrl_c_stops_testbed_up_and_leaves_nothing(tmp_path: Path) -> None:
    before = machine_state(ME)
    child = _spawn(tmp_path, "up")
    assert child.stdout is not None
    for line in child.stdout:
        if "Ctrl-C stops it" in line:
            break
    _wait_until_up(child)
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=30)
    assert child.returncode == 0, out
    assert "everything it started is gone" in out
    assert_nothing_left(before, child.pid)


def test_ctrl_c_during_testbed_run_leaves_nothing(tmp_path: Path) -> None:
    before = machine_state(ME)
    child = _spawn(tmp_path, "run")
    _wait_until_up(child)
    deadline = time.monotonic() + 30
    while len(machine_state(child.pid).processes) <= 4 and time.monotonic() < deadline:
        time.sleep(0.05)  # until probes run too
    time.sleep(1.0)  # inside the measurements of the blackholed and the throttled sites
    assert any("testbed.netns.probe" in command for _, command in machine_state(child.pid).processes)
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=30)
    assert child.returncode == 130, out
    assert "interrupted; the testbed was taken down" in out
    assert_nothing_left(before, child.pid)


def test_a_namespace_that_cannot_be_deleted_is_reported() -> None:
    """Teardown failures are raised, never swallowed (here: a namespace deleted behind its back)."""
    before = machine_state(ME)

    async def main() -> None:
        async with NamespaceTestbed(_scenario(), helper=False) as bed:
            assert bed.layout is not None
            run(["ip", "netns", "delete", bed.layout.internet])

    with pytest.raises(CommandFailed, match="netns delete"):
        asyncio.run(main())
    assert_nothing_left(before, ME)
