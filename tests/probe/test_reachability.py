"""Reachability rounds on loopback: endpoints, slots, counts per entity, the CLI."""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from probe_servers import port_of, refused_port, start_dns, start_tcp

from netvigil.cli.probe import add_probe_parser
from netvigil.probe.config import ConfigError
from netvigil.probe.net import Net
from netvigil.probe.reachability import (
    Endpoint,
    RoundResult,
    Schedule,
    parse_endpoint,
    read_endpoints,
    run_rounds,
    tally,
)
from netvigil.probe.tls import client_context

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
NET = Net(tls_context=client_context(None), connect_timeout=1.0)


async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


def test_endpoints_file_with_entities_header_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "endpoints.csv"
    path.write_text("entity,endpoint\n# Iran, one network\nIR/AS44244,192.0.2.1:443\n\n"
                    "IR/AS44244,[2001:db8::1]:80\nexample.org:443\n")
    assert read_endpoints(path, entity="XX") == [
        Endpoint("IR/AS44244", "192.0.2.1", 443), Endpoint("IR/AS44244", "2001:db8::1", 80),
        Endpoint("XX", "example.org", 443)]
    assert parse_endpoint("192.0.2.7:22").entity == "192.0.2.7:22"
    path.write_text("IR,192.0.2.1:443\nIR,192.0.2.1\n")
    with pytest.raises(ConfigError, match=r"endpoints.csv:2: .*no port"):
        read_endpoints(path)


def test_tally_counts_per_entity_in_input_order() -> None:
    results = tally([("B", None), ("A", "connection_refused"), ("B", "generic_timeout_error"),
                     ("A", "connection_refused"), ("A", None)], T0)
    assert [r.to_dict() for r in results] == [
        {"entity": "B", "time": "2026-05-01T10:00:00.000Z", "sent": 2, "answered": 1,
         "failures": {"generic_timeout_error": 1}},
        {"entity": "A", "time": "2026-05-01T10:00:00.000Z", "sent": 3, "answered": 1,
         "failures": {"connection_refused": 2}}]


def test_schedule_slots_are_utc_multiples_of_the_interval() -> None:
    schedule = Schedule(rounds=3, interval=600, jitter=0.2)
    assert schedule.slot(T0 + timedelta(minutes=17, seconds=3)) == T0 + timedelta(minutes=10)
    assert schedule.next_slot(T0, T0 + timedelta(minutes=4)) == T0 + timedelta(minutes=10)
    assert schedule.next_slot(T0, T0 + timedelta(minutes=23)) == T0 + timedelta(minutes=20)  # overran
    starts = [schedule.start_in(T0, random.Random(n)) for n in range(50)]
    assert all(T0 <= s < T0 + timedelta(minutes=2) for s in starts)
    for bad in ({"interval": 0}, {"jitter": 1.0}, {"rounds": -1}):
        with pytest.raises(ConfigError):
            Schedule(**bad)


def test_rounds_in_slots_with_answers_and_failures() -> None:
    now = [T0 + timedelta(minutes=3)]
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += timedelta(seconds=seconds)

    async def scenario() -> list[RoundResult]:
        up = await start_tcp(hang_up, host="127.0.0.2")
        endpoints = [Endpoint("XA", "127.0.0.2", port_of(up)), Endpoint("XA", "127.0.0.3", refused_port()),
                     Endpoint("XB", "127.0.0.2", port_of(up))]
        results: list[RoundResult] = []
        try:
            await run_rounds(endpoints, net=NET, schedule=Schedule(rounds=3, interval=600), concurrency=2,
                             emit=results.append, clock=lambda: now[0], sleep=fake_sleep,
                             rng=random.Random(1))
        finally:
            up.close()
        return results

    results = asyncio.run(scenario())
    assert [r.time for r in results] == [T0 + timedelta(minutes=m) for m in (0, 0, 10, 10, 20, 20)]
    assert [(r.entity, r.sent, r.answered, r.failures) for r in results[:2]] == [
        ("XA", 2, 1, (("connection_refused", 1),)), ("XB", 1, 1, ())]
    assert len(waits) == 2 and 7 * 60 <= waits[0] < 8 * 60  # 10:03 to 10:10, plus up to 1 min of jitter


def test_a_host_name_is_resolved_every_round_with_the_probes_resolver() -> None:
    async def scenario() -> list[RoundResult]:
        up = await start_tcp(hang_up, host="127.0.0.2")
        dns = await start_dns({"up.example": ["127.0.0.3", "127.0.0.2"]},
                              behaviour={"gone.example": "nxdomain"})
        net = Net(udp_resolver=("127.0.0.1", int(dns.address.rsplit(":", 1)[1])), tls_context=NET.tls_context,
                  connect_timeout=1.0, dns_timeout=1.0)
        results: list[RoundResult] = []
        try:
            await run_rounds([parse_endpoint(f"up.example:{port_of(up)}", entity="U"),
                              parse_endpoint("gone.example:80", entity="G")], net=net,
                             schedule=Schedule(rounds=1), concurrency=4, emit=results.append)
        finally:
            up.close()
            dns.transport.close()
        return results

    up, gone = asyncio.run(scenario())
    assert (up.sent, up.answered) == (1, 1)  # 127.0.0.3 refuses, the next address accepts
    assert (gone.answered, gone.failures) == (0, (("dns_nxdomain_error", 1),))


def test_cli_writes_one_line_per_entity_per_round(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETVIGIL_CONFIG_DIR", str(tmp_path / "config"))
    listener = socket.create_server(("127.0.0.2", 0))  # the kernel completes handshakes; nothing to accept
    port = listener.getsockname()[1]
    endpoints = tmp_path / "endpoints.csv"
    endpoints.write_text(f"entity,endpoint\nXA/AS1,127.0.0.2:{port}\nXB/AS2,127.0.0.3:{refused_port()}\n")
    output = tmp_path / "rounds.jsonl"
    parser = argparse.ArgumentParser(prog="netvigil")
    add_probe_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["reachability", "--endpoints-file", str(endpoints), "--output", str(output),
                              "--rounds", "3", "--interval", "0.2", "--jitter", "0.5", "--yes-i-understand"])
    try:
        assert args.func(args) == 0
    finally:
        listener.close()
    lines = [orjson.loads(line) for line in output.read_bytes().splitlines()]
    expected = [("XA/AS1", 1, 1), ("XB/AS2", 1, 0)] * 3
    assert [(d["entity"], d["sent"], d["answered"]) for d in lines] == expected
    times = [datetime.fromisoformat(d["time"]) for d in lines[::2]]
    assert all(t.microsecond % 200_000 == 0 for t in times) and times == sorted(set(times))
    assert lines[1]["failures"] == {"connection_refused": 1}
    bad = parser.parse_args(["reachability", "127.0.0.2", "--output", str(output)])
    assert bad.func(bad) == 1
