"""``netvigil probe`` and ``netvigil helper``: argument parsing and wiring only.

Each ``add_*_parser`` adds a sub-command whose ``func`` takes the parsed
arguments and returns the exit status: 0 done, 1 nothing could be measured or
served (bad input file, unusable configuration), 2 consent not given.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from pathlib import Path

from netvigil.probe.config import ConfigError, ProbeConfig
from netvigil.probe.consent import ensure_consent
from netvigil.probe.control import ask_public_ip
from netvigil.probe.geoip import Location, locate, open_readers
from netvigil.probe.helper_server import start_helper
from netvigil.probe.inputs import Input, InputError, read_test_lists, read_url_file, unique
from netvigil.probe.net import Net
from netvigil.probe.runner import RunOptions, run_list, run_scheduled
from netvigil.probe.spool import Collector, Spool

_DEFAULTS = ProbeConfig()


def add_probe_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("probe", help="Measure URLs with web_connectivity (OONI-compatible JSONL).",
                              description="Measure URLs with web_connectivity (OONI-compatible JSONL).")
    p.add_argument("urls", nargs="*", metavar="URL")
    p.add_argument("--input-file", type=Path, help="a file of URLs, one per line")
    p.add_argument("--test-lists", type=Path, metavar="DIR", help="Citizen Lab test-lists 'lists/' folder")
    p.add_argument("--country", help="also measure DIR/<country>.csv (two-letter code)")
    p.add_argument("--category", action="append", default=[], help="only these category codes (repeatable)")
    p.add_argument("--output", type=Path, default=Path("measurements.jsonl"))
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--no-progress", action="store_true")
    net = p.add_argument_group("network")
    net.add_argument("--resolver", help="udp://HOST:PORT, the primary resolver")
    net.add_argument("--no-system-resolver", action="store_true")
    net.add_argument("--doh", dest="doh_url", help="DNS-over-HTTPS URL for reference lookups")
    net.add_argument("--socks5", help="HOST:PORT of a SOCKS5 proxy for every connection")
    net.add_argument("--ca-file", help="extra trusted CA bundle (PEM)")
    net.add_argument("--test-helper", help="URL of a ts-017 test helper")
    for name in ("connect", "tls", "http", "dns"):
        net.add_argument(f"--{name}-timeout", type=float, default=getattr(_DEFAULTS, f"{name}_timeout"))
    net.add_argument("--max-body-bytes", type=int, default=_DEFAULTS.max_body_bytes)
    where = p.add_argument_group("vantage point (privacy)")
    where.add_argument("--geoip-db", type=Path, action="append", default=[],
                       help="MaxMind country or ASN database (repeatable)")
    where.add_argument("--probe-cc", help="country code to record (default: GeoIP, else ZZ)")
    where.add_argument("--probe-asn", help="ASN to record, e.g. AS1234 (default: GeoIP, else AS0)")
    where.add_argument("--probe-ip", help="this probe's public IP (scrubbed; default: as the helper sees it)")
    run = p.add_argument_group("unattended use")
    run.add_argument("--schedule-hours", type=float,
                     help="measure the list again every N hours (with jitter)")
    run.add_argument("--collector", help="URL to POST measurements to (JSON lines)")
    run.add_argument("--spool-dir", type=Path, default=Path("spool"))
    run.add_argument("--yes-i-understand", action="store_true",
                     help="acknowledge the risk notice (automation)")
    p.set_defaults(func=run_probe)
    return p


def add_helper_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("helper", help="Serve the Web Connectivity test helper (ts-017).",
                              description="Serve the Web Connectivity test helper (ts-017).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--resolver", help="udp://HOST:PORT (default: the system resolver)")
    p.add_argument("--ca-file", help="extra trusted CA bundle (PEM)")
    p.set_defaults(func=run_helper)
    return p


def run_probe(args: argparse.Namespace) -> int:
    if not ensure_consent(assume_yes=args.yes_i_understand, stdin=sys.stdin, stderr=sys.stderr):
        return 2
    try:
        inputs = _inputs(args)
        config = _config(args)
        Net.from_config(config)  # validate before anything runs
    except (InputError, ConfigError) as exc:
        print(f"netvigil probe: {exc}", file=sys.stderr)
        return 1
    if not inputs:
        print("netvigil probe: no URL to measure (give URLs, --input-file or --test-lists)", file=sys.stderr)
        return 1
    return asyncio.run(_probe(args, inputs, config))


async def _probe(args: argparse.Namespace, inputs: list[Input], config: ProbeConfig) -> int:
    config = await _vantage_point(args, config)
    spool = Spool(args.spool_dir) if args.collector else None
    collector = Collector(url=args.collector, net=Net.from_config(config)) if args.collector else None
    options = RunOptions(output=args.output, concurrency=args.concurrency, progress=not args.no_progress,
                         spool=spool, collector=collector)
    if args.schedule_hours:
        await run_scheduled(inputs, config, options, hours=args.schedule_hours)
        return 0
    stats = await run_list(inputs, config, options)
    print(f"measured {stats.measured}, skipped {stats.skipped} already in {args.output}"
          + (f", submitted {stats.submitted}" if collector else ""), file=sys.stderr)
    return 0


def _inputs(args: argparse.Namespace) -> list[Input]:
    found = [Input(url) for url in args.urls]
    if args.input_file:
        found += read_url_file(args.input_file)
    if args.test_lists:
        found += read_test_lists(args.test_lists, country=args.country, categories=args.category)
    return unique(found)


def _config(args: argparse.Namespace) -> ProbeConfig:
    return ProbeConfig(
        resolver=args.resolver, use_system_resolver=not args.no_system_resolver, socks5=args.socks5,
        ca_file=args.ca_file, test_helper=args.test_helper, connect_timeout=args.connect_timeout,
        tls_timeout=args.tls_timeout, http_timeout=args.http_timeout, dns_timeout=args.dns_timeout,
        max_body_bytes=args.max_body_bytes, doh_url=args.doh_url, probe_ip=args.probe_ip)


async def _vantage_point(args: argparse.Namespace, config: ProbeConfig) -> ProbeConfig:
    """Public IP (flag, else the helper's view), then country/ASN (flags win over GeoIP)."""
    probe_ip = config.probe_ip
    if probe_ip is None and config.test_helper:
        probe_ip = await ask_public_ip(config.test_helper, net=Net.from_config(config),
                                       timeout=config.connect_timeout)
    location = locate(probe_ip, open_readers(args.geoip_db)) if probe_ip and args.geoip_db else Location()
    return dataclasses.replace(
        config, probe_ip=probe_ip, probe_cc=(args.probe_cc or location.cc).upper(),
        probe_asn=args.probe_asn or location.asn, probe_network_name=location.network_name)


def run_helper(args: argparse.Namespace) -> int:
    async def serve() -> None:
        helper = await start_helper(host=args.host, port=args.port, resolver=args.resolver,
                                    ca_file=args.ca_file)
        print(f"netvigil helper listening on {helper.url}", file=sys.stderr)
        await helper.serve_forever()

    try:
        asyncio.run(serve())
    except (ConfigError, OSError) as exc:
        print(f"netvigil helper: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0
