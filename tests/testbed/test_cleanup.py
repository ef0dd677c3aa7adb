"""Teardown: nothing of a testbed is left, however it ends.

"Nothing" means: no listening TCP socket and no UDP socket of this process on
loopback, no asyncio task besides the test's own, no temporary folder.  The
Ctrl-C cases run the real command in a child process and send it SIGINT.
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

import psutil
import pytest
from testbed_helpers import scenario_from

from netvigil.testbed.loopback.testbed import TEMP_PREFIX, LoopbackTestbed
from netvigil.testbed.scenarios.scenario import Scenario

REPO = Path(__file__).resolve().parents[2]
SCENARIO_TEXT = """
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


def _scenario() -> Scenario:
    return scenario_from(SCENARIO_TEXT)


def _our_sockets() -> set[tuple[str, int, str]]:
    """Loopback sockets of this process that listen (TCP) or are bound (UDP)."""
    found = set()
    for conn in psutil.Process().net_connections(kind="inet"):
        bound = conn.status in (psutil.CONN_LISTEN, psutil.CONN_NONE)
        if conn.laddr and conn.laddr.ip.startswith("127.") and bound:
            found.add((conn.laddr.ip, conn.laddr.port, conn.status))
    return found


def _temp_folders() -> set[str]:
    return {p.name for p in Path(os.environ.get("TMPDIR", "/tmp")).glob(f"{TEMP_PREFIX}*")}


def _assert_clean_after(body: Callable[[LoopbackTestbed], Awaitable[None]],
                        raises: type[BaseException] | None, **options: bool) -> None:
    before_sockets, before_folders = _our_sockets(), _temp_folders()
    seen: dict[str, object] = {}

    async def main() -> None:
        async def run() -> None:
            async with LoopbackTestbed(_scenario(), **options) as bed:
                seen["folder"] = bed.folder
                seen["sockets"] = _our_sockets() - before_sockets
                await body(bed)

        try:
            await run()
        finally:
            seen["tasks"] = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    if raises is None:
        asyncio.run(main())
    else:
        with pytest.raises(raises):
            asyncio.run(main())
    assert seen.get("sockets"), "the testbed did not come up"
    assert seen["tasks"] == []
    assert _our_sockets() == before_sockets
    assert not Path(str(seen["folder"])).exists()
    assert _temp_folders() == before_folders


async def _nothing(bed: LoopbackTestbed) -> None:
    await asyncio.sleep(0)


async def _fail(bed: LoopbackTestbed) -> None:
    raise RuntimeError("the test failed inside the testbed")


async def _busy_then_fail(bed: LoopbackTestbed) -> None:
    """Leave connections open in the middle (a blackholed one, an idle one), then fail."""
    from testbed_helpers import socks_connect

    assert bed.ports is not None
    hole = bed.plan.of("hole.example").advertised
    news = bed.plan.of("news.example").advertised
    await socks_connect(bed.endpoints("probe").socks5, hole, bed.ports.https, timeout=0.2)
    await socks_connect(bed.endpoints("probe").socks5, news, bed.ports.https, timeout=0.2)
    raise RuntimeError("failed with connections open")


def test_nothing_is_left_after_success() -> None:
    _assert_clean_after(_nothing, None)


def test_nothing_is_left_after_success_with_the_helper() -> None:
    _assert_clean_after(_nothing, None, helper=True)


def test_nothing_is_left_after_failure() -> None:
    _assert_clean_after(_fail, RuntimeError)


def test_nothing_is_left_after_failure_with_open_connections() -> None:
    _assert_clean_after(_busy_then_fail, RuntimeError)


def test_nothing_is_left_after_a_timeout() -> None:
    async def hang(bed: LoopbackTestbed) -> None:
        await asyncio.wait_for(asyncio.Event().wait(), 0.2)

    _assert_clean_after(hang, TimeoutError)


def test_nothing_is_left_when_bringing_up_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    import netvigil.testbed.loopback.testbed as loopback

    async def broken(**kwargs: object) -> None:
        raise OSError("the helper could not start")

    monkeypatch.setattr(loopback, "start_helper", broken)
    before_sockets, before_folders = _our_sockets(), _temp_folders()

    async def main() -> None:
        async with LoopbackTestbed(_scenario(), helper=True):
            pass

    with pytest.raises(OSError, match="could not start"):
        asyncio.run(main())
    assert _our_sockets() == before_sockets
    assert _temp_folders() == before_folders


def _spawn(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text('[scenario]\nname = "t"\ndescription = "test"\n' + SCENARIO_TEXT)
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(REPO / "src")}
    return subprocess.Popen([sys.executable, "-c", CLI, "testbed", *args, str(scenario)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _folders(tmp_path: Path) -> list[Path]:
    return list(tmp_path.glob(f"{TEMP_PREFIX}*"))


def test_ctrl_c_stops_testbed_up_and_leaves_nothing(tmp_path: Path) -> None:
    child = _spawn(tmp_path, "up")
    assert child.stdout is not None
    lines = []
    for line in child.stdout:
        lines.append(line)
        if "Ctrl-C stops it" in line:
            break
    assert len(_folders(tmp_path)) == 1
    middle = next(line for line in lines if "SOCKS5 middle" in line).rsplit(" ", 1)[1].strip()
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=20)
    assert child.returncode == 0, out
    assert "everything it started is gone" in out
    assert _folders(tmp_path) == []
    host, _, port = middle.rpartition(":")
    with pytest.raises(ConnectionRefusedError):
        import socket
        socket.create_connection((host, int(port)), timeout=2).close()


def test_ctrl_c_during_testbed_run_leaves_nothing(tmp_path: Path) -> None:
    child = _spawn(tmp_path, "run")
    deadline = time.monotonic() + 20
    while not _folders(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _folders(tmp_path), "the testbed never came up"
    time.sleep(0.5)  # inside the measurement of the blackholed site
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=20)
    assert child.returncode == 130, out
    assert "interrupted; the testbed was taken down" in out
    assert _folders(tmp_path) == []
