"""A shutdown on loopback, seen by reachability rounds and found by ``netvigil detect``.

Listeners on 127.0.0.2 (one network) are closed after a number of rounds and
reopened later; 127.0.0.3's stay up, and of 127.0.0.4's three only one closes
(a partial loss, not an outage).  The rounds are real TCP connects; only the
clock is simulated (10-minute rounds in a moment), so the expected onset is
exact: the slot of the first round after the listeners closed.  A second test
does the same on the wall clock through both command lines.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from netvigil.cli.detect import add_detect_parsers, detect_incidents
from netvigil.detect.records import iso
from netvigil.cli.probe import add_probe_parser
from netvigil.probe.net import Net
from netvigil.probe.reachability import Endpoint, Schedule, run_rounds
from netvigil.probe.runner import append_jsonl, write_jsonl
from netvigil.probe.tls import client_context
from netvigil.signals import load_signals

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
SLOT = timedelta(minutes=10)
ROUNDS, DOWN_AT, UP_AT = 36, 21, 31  # rounds 21..30 (13:30 to 15:10) find network XA shut down
NETWORKS = {"XA/AS64500": "127.0.0.2", "XB/AS64501": "127.0.0.3", "XC/AS64502": "127.0.0.4"}


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="netvigil")
    commands = parser.add_subparsers(dest="command", required=True)
    add_probe_parser(commands)
    add_detect_parsers(commands)
    args = parser.parse_args(argv)
    return int(args.func(args))


async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


class Network:
    """Three listeners on one loopback address that can be shut down and restored on the same ports."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.servers: list[asyncio.Server] = []
        self.ports: list[int] = []

    async def up(self) -> None:
        ports = self.ports or [0, 0, 0]
        self.servers = [await asyncio.start_server(hang_up, self.host, port) for port in ports]
        self.ports = [s.sockets[0].getsockname()[1] for s in self.servers]

    def down(self, count: int = 3) -> None:
        for server in self.servers[:count]:
            server.close()

    def endpoints(self, entity: str) -> list[Endpoint]:
        return [Endpoint(entity, self.host, port) for port in self.ports]


async def shutdown_rounds(output: Path) -> list[datetime]:
    """Write ROUNDS rounds; return the simulated moments at which XA went down and came back."""
    now, sleeps, events = [T0], [0], []
    networks = {entity: Network(host) for entity, host in NETWORKS.items()}
    for network in networks.values():
        await network.up()

    async def sleep(seconds: float) -> None:  # the simulated clock; the connects are real
        now[0] += timedelta(seconds=seconds)
        sleeps[0] += 1
        if sleeps[0] == DOWN_AT:
            networks["XA/AS64500"].down()
            networks["XC/AS64502"].down(count=1)
            events.append(now[0])
        elif sleeps[0] == UP_AT:
            await networks["XA/AS64500"].up()
            events.append(now[0])

    endpoints = [e for entity, network in networks.items() for e in network.endpoints(entity)]
    net = Net(tls_context=client_context(None), connect_timeout=1.0)
    try:
        with append_jsonl(output) as out:
            await run_rounds(endpoints, net=net, schedule=Schedule(rounds=ROUNDS, interval=600, jitter=0.1),
                             concurrency=4, emit=lambda r: write_jsonl(out, r.to_dict()),
                             clock=lambda: now[0], sleep=sleep, rng=random.Random(7))
    finally:
        for network in networks.values():
            network.down()
    return events


def test_a_loopback_shutdown_is_found_with_its_onset(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    rounds = tmp_path / "rounds.jsonl"
    went_down, came_back = asyncio.run(shutdown_rounds(rounds))
    lines = [orjson.loads(line) for line in rounds.read_bytes().splitlines()]
    assert len(lines) == ROUNDS * len(NETWORKS)
    xa = [d for d in lines if d["entity"] == "XA/AS64500"]
    assert [d["answered"] for d in xa] == [3] * DOWN_AT + [0] * (UP_AT - DOWN_AT) + [3] * (ROUNDS - UP_AT)
    assert xa[DOWN_AT]["failures"] == {"connection_refused": 3}

    assert run_cli(["detect", "--signals", str(rounds), "--format", "jsonl"]) == 0
    incidents = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [i["entity"] for i in incidents] == ["XA/AS64500"]  # none for XB (up), XC (lost one of three)
    [incident] = incidents
    onset = T0 + DOWN_AT * SLOT
    assert incident["start"] == iso(onset) and incident["signals"] == ["probe.reachability"]
    assert timedelta(0) <= went_down - onset < timedelta(minutes=1)  # closed within the jitter of round 21
    restored = T0 + UP_AT * SLOT
    assert incident["end"] == iso(restored) and timedelta(0) <= came_back - restored < timedelta(minutes=1)
    assert incident["level"] == "critical" and incident["confidence"] > 0.99 and incident["on_the_hour"]


def test_wall_clock_rounds_through_both_command_lines(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Real time: 0.25 s rounds; the listener closes after about 2 s and stays closed."""
    monkeypatch.setenv("NETVIGIL_CONFIG_DIR", str(tmp_path / "config"))
    listeners = [socket.create_server(("127.0.0.2", 0)) for _ in range(3)]  # handshakes need no accept()
    endpoints = tmp_path / "endpoints.csv"
    endpoints.write_text("".join(f"XA/AS64500,127.0.0.2:{s.getsockname()[1]}\n" for s in listeners))
    closed_at: list[datetime] = []

    def shut_down() -> None:
        closed_at.append(datetime.now(UTC))
        for s in listeners:
            s.close()

    timer = threading.Timer(2.0, shut_down)
    timer.start()
    rounds = tmp_path / "rounds.jsonl"
    try:
        assert run_cli(["reachability", "--endpoints-file", str(endpoints), "--output", str(rounds),
                        "--rounds", "16", "--interval", "0.25", "--jitter", "0.2", "--yes-i-understand"]) == 0
    finally:
        timer.join()
    [incident] = detect_incidents(load_signals(rounds).points)
    lines = [orjson.loads(line) for line in rounds.read_bytes().splitlines()]
    first_failed = next(datetime.fromisoformat(d["time"]) for d in lines if d["answered"] == 0)
    assert incident.start == first_failed and incident.end is None  # still down at the end of the data
    assert timedelta(0) < incident.start + timedelta(seconds=0.25) - closed_at[0] <= timedelta(seconds=0.5)
