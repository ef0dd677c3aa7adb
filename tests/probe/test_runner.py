"""Inputs, the runner (resume, schedule, collector and spool), consent, GeoIP and the CLI."""

from __future__ import annotations

import argparse
import asyncio
import io
import threading
from pathlib import Path

import orjson
import pytest
from probe_servers import http_response, page, port_of, read_head, refused_port, serve_bytes, start_tcp

from netvigil.cli.probe import add_helper_parser, add_probe_parser
from netvigil.evidence.signing import verify_measurement
from netvigil.probe.config import ProbeConfig
from netvigil.probe.consent import ensure_consent, has_consented
from netvigil.probe.geoip import locate
from netvigil.probe.inputs import Input, read_test_lists, read_url_file
from netvigil.probe.net import Net
from netvigil.probe.runner import RunOptions, run_list, run_scheduled
from netvigil.probe.spool import Collector, Spool
from netvigil.probe.tls import client_context

CONFIG = ProbeConfig(connect_timeout=1.0, http_timeout=2.0)  # IP-literal URLs: no DNS needed
HEADER = "url,category_code,category_description,date_added,source,notes\n"


def test_test_lists_global_plus_country_by_category(tmp_path: Path) -> None:
    (tmp_path / "global.csv").write_text(HEADER + "https://a.example/,NEWS,News,,,\nhttps://b.example/,GMB,G,,,\n")
    (tmp_path / "it.csv").write_text(HEADER + "https://c.example/,NEWS,News,,,\nhttps://a.example/,HUMR,H,,,\n")
    assert [i.url for i in read_test_lists(tmp_path, country="IT", categories=["news"])] == [
        "https://a.example/", "https://c.example/"]
    assert len(read_test_lists(tmp_path)) == 2


def test_real_citizenlab_lists_parse(shared_data: Path) -> None:
    lists = shared_data / "citizenlab-test-lists" / "lists"
    found = read_test_lists(lists, country="it", categories=["NEWS"])
    assert len(found) > 10 and all(i.category_code == "NEWS" for i in found)


def test_url_file(tmp_path: Path) -> None:
    path = tmp_path / "urls.txt"
    path.write_text("# comment\nhttp://a.example/\n\nhttp://a.example/\n  https://b.example/  \n")
    assert [i.url for i in read_url_file(path)] == ["http://a.example/", "https://b.example/"]


async def _origin():
    return await start_tcp(serve_bytes(http_response(page("Runner"))))


def test_run_list_resumes_after_interruption(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"

    async def scenario():
        origin = await _origin()
        urls = [Input(f"http://127.0.0.1:{port_of(origin)}/{n}") for n in range(5)]
        try:
            first = await run_list(urls[:3], CONFIG, RunOptions(output=output, progress=False, concurrency=2))
            with output.open("ab") as out:
                out.write(b'{"input": "http://127.0.0.1/torn')  # a crash mid-write
            second = await run_list(urls, CONFIG, RunOptions(output=output, progress=False, concurrency=2))
        finally:
            origin.close()
        return first, second

    first, second = asyncio.run(scenario())
    assert (first.measured, second.measured, second.skipped) == (3, 2, 3)
    lines = output.read_bytes().splitlines()
    records = [orjson.loads(line) for line in lines if not line.endswith(b"torn")]
    assert sorted(r["input"].rsplit("/", 1)[1] for r in records) == ["0", "1", "2", "3", "4"]
    assert len({r["report_id"] for r in records}) == 2  # one report per run


def test_schedule_runs_rounds_with_jitter(tmp_path: Path) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    async def scenario():
        origin = await _origin()
        try:
            return await run_scheduled([Input(f"http://127.0.0.1:{port_of(origin)}/")], CONFIG,
                                       RunOptions(output=tmp_path / "round.jsonl", progress=False),
                                       hours=2, rounds=2, sleep=fake_sleep)
        finally:
            origin.close()

    stats = asyncio.run(scenario())
    assert [s.measured for s in stats] == [1, 1] and len(waits) == 1 and 0.9 * 7200 <= waits[0] <= 1.1 * 7200


def collector_answer(body: bytes, statuses: dict[int, str] | None = None) -> bytes:
    """A 200 in netvigil's collector shape: each line ``stored`` unless ``statuses`` says otherwise."""
    lines = [line for line in body.split(b"\n") if line.strip()]
    records = [{"position": f"line {n}", "status": (statuses or {}).get(n, "stored"), "reason": "test"}
               for n in range(1, len(lines) + 1) if (statuses or {}).get(n, "stored") != "omitted"]
    return http_response(orjson.dumps({"received": len(lines), "records": records}))


class FlakyCollector:
    """Answers 503 to the first POST, then 200 (every record stored); keeps every accepted body."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.calls = 0

    async def handle(self, reader, writer) -> None:
        head = (await read_head(reader)).decode("latin-1").lower()
        length = int(head.split("content-length:")[1].split("\r\n")[0])
        body = await reader.readexactly(length)
        self.calls += 1
        if self.calls == 1:
            writer.write(http_response(b"busy", status="503 Service Unavailable"))
        else:
            self.bodies.append(body)
            writer.write(collector_answer(body))
        await writer.drain()


def test_collector_retries_and_spool_keeps_what_is_not_sent(tmp_path: Path) -> None:
    flaky = FlakyCollector()
    net = Net(tls_context=client_context(None), connect_timeout=1.0)

    async def scenario():
        origin, server = await _origin(), await start_tcp(flaky.handle)
        try:
            offline = Spool(tmp_path / "offline")
            down = Collector(url=f"http://127.0.0.1:{refused_port()}/", net=net, retries=1, backoff=0.01)
            await run_list([Input(f"http://127.0.0.1:{port_of(origin)}/")], CONFIG,
                           RunOptions(output=tmp_path / "a.jsonl", progress=False, spool=offline, collector=down))
            spool = Spool(tmp_path / "spool")
            up = Collector(url=f"http://127.0.0.1:{port_of(server)}/submit", net=net, retries=2, backoff=0.01)
            stats = await run_list([Input(f"http://127.0.0.1:{port_of(origin)}/{n}") for n in range(3)], CONFIG,
                                   RunOptions(output=tmp_path / "b.jsonl", progress=False, spool=spool, collector=up))
            return offline, spool, stats
        finally:
            origin.close()
            server.close()

    offline, spool, stats = asyncio.run(scenario())
    assert len(offline.pending()) == 1  # nothing lost while the collector is down
    assert spool.pending() == [] and stats.submitted == 3 and flaky.calls == 2
    assert len(flaky.bodies[0].splitlines()) == 3 and orjson.loads(flaky.bodies[0].splitlines()[0])["test_keys"]


def test_consent_is_asked_once(tmp_path: Path) -> None:
    err = io.StringIO()
    assert not ensure_consent(assume_yes=False, stdin=io.StringIO(""), stderr=err, directory=tmp_path)
    assert "risks" in err.getvalue() and not has_consented(tmp_path)
    assert ensure_consent(assume_yes=True, stdin=io.StringIO(""), stderr=io.StringIO(), directory=tmp_path)
    quiet = io.StringIO()
    assert ensure_consent(assume_yes=False, stdin=io.StringIO(""), stderr=quiet, directory=tmp_path)
    assert quiet.getvalue() == ""


def test_geoip_from_country_and_asn_databases() -> None:
    country = {"81.2.69.160": {"country": {"iso_code": "gb"}}}
    asn = {"81.2.69.160": {"autonomous_system_number": 20712, "autonomous_system_organization": "Andrews & Arnold"}}
    location = locate("81.2.69.160", [country, asn])
    assert (location.cc, location.asn, location.network_name) == ("GB", "AS20712", "Andrews & Arnold")
    assert locate("10.0.0.1", [country, asn]).cc == "ZZ"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="netvigil")
    commands = parser.add_subparsers(dest="command", required=True)
    add_probe_parser(commands)
    add_helper_parser(commands)
    return parser


def test_cli_probe_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETVIGIL_CONFIG_DIR", str(tmp_path / "config"))
    loop = asyncio.new_event_loop()
    origin = loop.run_until_complete(_origin())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        output = tmp_path / "cli.jsonl"
        args = _parser().parse_args(["probe", f"http://127.0.0.1:{port_of(origin)}/", "--output", str(output),
                                     "--no-progress", "--probe-cc", "it", "--probe-asn", "AS137",
                                     "--connect-timeout", "1"])
        assert args.func(args) == 2  # no consent yet, stdin is not a terminal
        args = _parser().parse_args([*_argv(args), "--yes-i-understand"])
        assert args.func(args) == 0
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        origin.close()
        loop.close()
    record = orjson.loads(output.read_bytes().splitlines()[0])
    assert (record["probe_cc"], record["probe_asn"]) == ("IT", "AS137")
    assert record["test_keys"]["requests"][0]["response"]["code"] == 200
    assert verify_measurement(record, None) is not None  # signed with the key created on this first run


def _argv(args: argparse.Namespace) -> list[str]:
    return ["probe", *args.urls, "--output", str(args.output), "--no-progress", "--probe-cc", args.probe_cc,
            "--probe-asn", args.probe_asn, "--connect-timeout", str(args.connect_timeout)]


def test_cli_rejects_bad_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETVIGIL_CONFIG_DIR", str(tmp_path))
    args = _parser().parse_args(["probe", "http://x.example/", "--resolver", "tcp://1.1.1.1", "--yes-i-understand"])
    assert args.func(args) == 1
    args = _parser().parse_args(["probe", "--yes-i-understand"])
    assert args.func(args) == 1


class ScriptedCollector:
    """Answers 200 with the given status for each line of every batch (keyed by line number)."""

    def __init__(self, statuses: dict[int, str]) -> None:
        self.statuses = statuses
        self.bodies: list[bytes] = []

    async def handle(self, reader, writer) -> None:
        head = (await read_head(reader)).decode("latin-1").lower()
        body = await reader.readexactly(int(head.split("content-length:")[1].split("\r\n")[0]))
        self.bodies.append(body)
        writer.write(collector_answer(body, self.statuses))
        await writer.drain()


# name -> (status of each of 5 spooled records, left in the spool, moved to rejected/, deleted)
SPOOL_OUTCOMES = {
    "every record stored": ({}, 0, 0, 5),
    "an identical duplicate": ({2: "duplicate"}, 0, 0, 5),
    "a uid conflict": ({2: "conflict"}, 0, 1, 4),
    "a quarantined record": ({4: "quarantined"}, 0, 1, 4),
    "a record the answer does not mention": ({3: "omitted"}, 1, 0, 4),
    "an answer naming no record": ({n: "omitted" for n in range(1, 6)}, 5, 0, 0),
}


@pytest.mark.parametrize("name", SPOOL_OUTCOMES)
def test_the_spool_deletes_a_record_only_when_the_collector_holds_it(name: str, tmp_path: Path) -> None:
    statuses, left, rejected, deleted = SPOOL_OUTCOMES[name]
    collector = ScriptedCollector(statuses)
    net = Net(tls_context=client_context(None), connect_timeout=1.0)
    spool = Spool(tmp_path / "spool")
    for n in range(5):
        spool.add({"n": n})

    async def scenario() -> int:
        server = await start_tcp(collector.handle)
        try:
            up = Collector(url=f"http://127.0.0.1:{port_of(server)}/submit", net=net, retries=0, backoff=0.01)
            return await up.drain(spool)
        finally:
            server.close()

    sent = asyncio.run(scenario())
    assert (len(spool.pending()), len(spool.rejected()), sent) == (left, rejected, deleted)
    assert len(collector.bodies) == 1, "a batch the collector did not settle must not be resent in a loop"
    for path in spool.rejected():
        assert path.with_name(path.name + ".reason").read_text().startswith(("conflict", "quarantined"))
    kept = sorted(orjson.loads(p.read_bytes())["n"] for p in [*spool.pending(), *spool.rejected()])
    assert len(kept) == left + rejected  # nothing refused or unanswered is lost
