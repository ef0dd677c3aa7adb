"""dns_check: one name through several resolvers on loopback, compared, and accepted by ingest."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import orjson
import pytest
from probe_servers import FakeDNS, http_response, port_of, read_head, server_context, start_dns, start_tcp

from netvigil.engine import pipeline
from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.cli.probe import add_probe_parser
from netvigil.probe.config import ConfigError, ProbeConfig
from netvigil.probe.dns_check import SYSTEM, Resolver, parse_resolver, run_dns_check
from netvigil.probe.dns_compare import ResolverView, View, compare
from netvigil.probe.inputs import Input
from netvigil.probe.runner import RunOptions
from netvigil.store.db import open_store
from netvigil.store.sources import iter_records

HONEST, FORGED = "93.184.216.34", "10.10.34.35"
SITE = "site.example"


def test_resolvers_are_parsed_and_normalised() -> None:
    assert parse_resolver("system") == Resolver(SYSTEM, "getaddrinfo")
    assert parse_resolver("udp://127.0.0.1") == Resolver("udp://127.0.0.1:53", "udp", ("127.0.0.1", 53))
    assert parse_resolver("udp://[::1]:5353").key == "udp://[::1]:5353"
    assert parse_resolver("https://dns.example/dns-query").engine == "doh"
    for bad in ("tcp://1.1.1.1", "dot://dns.example", "https://", "udp://1.1.1.1:99999"):
        with pytest.raises(ConfigError):
            parse_resolver(bad)


def view(resolver: str, engine: str, *addresses: str, failure: str | None = None) -> ResolverView:
    return ResolverView(resolver, engine, View(tuple(addresses), failure))


def test_doh_is_the_reference_and_overlap_counts_as_consistent() -> None:
    result = compare([view("https://doh", "doh", HONEST, "93.184.216.35"), view("udp://a", "udp", HONEST),
                      view("udp://b", "udp", FORGED),
                      view(SYSTEM, "getaddrinfo", failure="dns_nxdomain_error")])
    assert (result.reference_kind, result.reference.addresses) == ("doh", (HONEST, "93.184.216.35"))
    assert result.consistent == ("https://doh", "udp://a")
    assert result.inconsistent == ("udp://b", SYSTEM)
    assert result.bogons == (("udp://b", (FORGED,)),)
    assert [g.resolvers for g in result.groups] == [("https://doh",), ("udp://a",), ("udp://b",), (SYSTEM,)]


def test_without_doh_a_strict_majority_is_the_reference() -> None:
    agreeing = compare([view("udp://a", "udp", HONEST), view(SYSTEM, "getaddrinfo", HONEST),
                        view("udp://b", "udp", FORGED)])
    assert agreeing.reference_kind == "majority" and agreeing.inconsistent == ("udp://b",)
    assert agreeing.groups[0].resolvers == ("udp://a", SYSTEM)
    split = compare([view("udp://a", "udp", HONEST), view("udp://b", "udp", FORGED)])
    assert split.reference is None and split.consistent == split.inconsistent == ()


def test_doh_nxdomain_is_a_reference_too() -> None:
    result = compare([view("https://doh", "doh", failure="dns_nxdomain_error"),
                      view("udp://a", "udp", failure="dns_nxdomain_error"), view("udp://b", "udp", FORGED)])
    assert result.reference.failure == "dns_nxdomain_error"
    assert (result.consistent, result.inconsistent) == (("https://doh", "udp://a"), ("udp://b",))


def doh_handler(answers: FakeDNS):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await read_head(reader)).decode("latin-1").lower()
        length = int(head.split("content-length:")[1].split("\r\n")[0])
        reply = answers.reply(await reader.readexactly(length))
        writer.write(http_response(reply, headers=("Content-Type: application/dns-message",)))
        await writer.drain()

    return handle


def test_one_name_three_resolvers_measured_compared_and_ingested(tmp_path: Path, test_ca, ca_file,
                                                                 cert_dir) -> None:
    output = tmp_path / "dnscheck.jsonl"
    config = ProbeConfig(ca_file=ca_file, connect_timeout=2.0, dns_timeout=2.0, probe_cc="IT",
                         probe_asn="AS137")

    async def scenario() -> None:
        honest = await start_dns({SITE: [HONEST]})
        forging = await start_dns({SITE: [FORGED]})
        doh = await start_tcp(doh_handler(FakeDNS({SITE: [HONEST]})),
                              ssl_context=server_context(test_ca, ["127.0.0.1"], cert_dir))
        try:
            resolvers = [parse_resolver(honest.address), parse_resolver(forging.address),
                         parse_resolver(f"https://127.0.0.1:{port_of(doh)}/dns-query")]
            await run_dns_check([Input(SITE)], resolvers, config, RunOptions(output=output, progress=False))
        finally:
            honest.transport.close()
            forging.transport.close()
            doh.close()

    asyncio.run(scenario())
    [record] = [orjson.loads(line) for line in output.read_bytes().splitlines()]
    assert (record["test_name"], record["input"], record["probe_cc"]) == ("dnscheck", SITE, "IT")
    assert "_dnscheck_IT_137_" in record["report_id"]
    keys = record["test_keys"]
    assert (keys["domain"], keys["bootstrap"], keys["bootstrap_failure"]) == (SITE, None, None)
    honest_key, forging_key, doh_key = keys["lookups"]
    a_query = keys["lookups"][forging_key]["queries"][0]
    assert (a_query["engine"], a_query["query_type"], a_query["answers"][0]["ipv4"]) == ("udp", "A", FORGED)
    assert {"t0", "t", "transaction_id", "failure", "hostname", "resolver_address"} <= a_query.keys()
    doh_lookup = keys["lookups"][doh_key]
    assert doh_lookup["failure"] is None and doh_lookup["failed_operation"] is None
    comparison = keys["x_comparison"]
    assert comparison["reference"] == {"kind": "doh", "addresses": [HONEST], "failure": None}
    assert comparison["consistent"] == [honest_key, doh_key] and comparison["inconsistent"] == [forging_key]
    assert comparison["bogons"] == {forging_key: [FORGED]}
    with open_store(tmp_path / "nv.duckdb") as store:
        summary = pipeline.ingest(store, iter_records([str(output)]), FingerprintDB.empty())
    assert (summary.stored, summary.quarantined) == (1, 0)


def test_a_silent_resolver_is_a_recorded_failure(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"

    async def scenario() -> None:
        silent = await start_dns({SITE: [HONEST]}, behaviour={SITE: "silent"})
        try:
            await run_dns_check([Input(SITE)], [parse_resolver(silent.address)], ProbeConfig(dns_timeout=0.3),
                                RunOptions(output=output, progress=False))
        finally:
            silent.transport.close()

    asyncio.run(scenario())
    [lookup] = orjson.loads(output.read_bytes())["test_keys"]["lookups"].values()
    assert (lookup["failure"], lookup["failed_operation"]) == ("generic_timeout_error", "resolve")


def test_cli_dns_check_through_the_system_resolver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``localhost`` is answered from the hosts file: nothing leaves the machine."""
    monkeypatch.setenv("NETVIGIL_CONFIG_DIR", str(tmp_path / "config"))
    parser = argparse.ArgumentParser(prog="netvigil")
    add_probe_parser(parser.add_subparsers(dest="command", required=True))
    output = tmp_path / "cli.jsonl"
    argv = ["dns-check", "localhost", "--resolver", "system", "--output", str(output), "--no-progress",
            "--yes-i-understand"]
    args = parser.parse_args(argv)
    assert args.func(args) == 0
    lookups = orjson.loads(output.read_bytes())["test_keys"]["lookups"]
    assert "127.0.0.1" in [a.get("ipv4") for a in lookups[SYSTEM]["queries"][0]["answers"]]
    bad = parser.parse_args([*argv[:2], "--resolver", "tcp://127.0.0.1", "--output", str(output)])
    assert bad.func(bad) == 1
