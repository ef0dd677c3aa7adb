"""``netvigil probe``, ``dns-check``, ``reachability`` and ``helper``: argument parsing and wiring only.

Each ``add_*_parser`` adds a sub-command whose ``func`` takes the parsed
arguments and returns the exit status: 0 done, 1 nothing could be measured or
served (bad input file, unusable configuration), 2 consent not given.
:func:`add_probe_parser` also adds the probe's other experiments (``dns-check``,
``reachability``), so the main CLI wires every measuring command with one call.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from pathlib import Path

from netvigil.evidence.signing import Signer
from netvigil.probe.config import ConfigError, ProbeConfig
from netvigil.probe.consent import ensure_consent
from netvigil.probe.control import ask_public_ip
from netvigil.probe.dns_check import Resolver, parse_resolver, run_dns_check
from netvigil.probe.geoip import Location, locate, open_readers
from netvigil.probe.helper_server import start_helper
from netvigil.probe.inputs import Input, InputError, read_test_lists, read_url_file, unique
from netvigil.probe.net import Net
from netvigil.probe.reachability import Endpoint, Schedule, parse_endpoint, read_endpoints, run_rounds
from netvigil.probe.runner import RunOptions, append_jsonl, run_list, run_scheduled, write_jsonl
from netvigil.probe.spool import Collector, Spool
from netvigil.store.asn import AsnDataError, default_asn_lookup, open_asn_lookup
from netvigil.store.keys import KeyFileError, default_probe_key_path, load_or_create

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
    _vantage_options(p)
    run = p.add_argument_group("unattended use")
    run.add_argument("--schedule-hours", type=float,
                     help="measure the list again every N hours (with jitter)")
    run.add_argument("--collector", help="URL to POST measurements to (JSON lines)")
    run.add_argument("--spool-dir", type=Path, default=Path("spool"))
    _signing_options(run)
    _consent_option(run)
    p.set_defaults(func=run_probe)
    add_dns_check_parser(subparsers)
    add_reachability_parser(subparsers)
    return p


def add_dns_check_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    text = "Resolve names through several resolvers and compare them (OONI dnscheck JSONL)."
    p = subparsers.add_parser("dns-check", help=text, description=text)
    p.add_argument("domains", nargs="*", metavar="DOMAIN")
    p.add_argument("--input-file", type=Path, help="a file of domains, one per line")
    p.add_argument("--resolver", dest="resolvers", action="append", required=True, metavar="RESOLVER",
                   help="system, udp://HOST:PORT or a DNS-over-HTTPS https:// URL (repeatable)")
    p.add_argument("--output", type=Path, default=Path("dnscheck.jsonl"))
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--ca-file", help="extra trusted CA bundle (PEM), for DoH")
    _signing_options(p)
    for name in ("dns", "connect", "tls", "http"):
        p.add_argument(f"--{name}-timeout", type=float, default=getattr(_DEFAULTS, f"{name}_timeout"))
    _vantage_options(p)
    _consent_option(p)
    p.set_defaults(func=run_dns_check_command)
    return p


def add_reachability_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    text = "Connect to endpoints in scheduled rounds: the active-probing signal (JSONL for `detect`)."
    p = subparsers.add_parser("reachability", help=text, description=text)
    p.add_argument("endpoints", nargs="*", metavar="HOST:PORT")
    p.add_argument("--endpoints-file", type=Path, metavar="FILE",
                   help="lines 'endpoint' or 'entity,endpoint' (CSV, e.g. IR/AS44244,192.0.2.1:443)")
    p.add_argument("--entity", help="label of endpoints given without one (default: the endpoint itself)")
    p.add_argument("--output", type=Path, default=Path("rounds.jsonl"),
                   help="appended to, one line per entity per round")
    p.add_argument("--rounds", type=int, default=1, help="how many rounds (0: until interrupted)")
    p.add_argument("--interval", type=float, default=Schedule().interval, metavar="SECONDS",
                   help="between round starts (default 600)")
    p.add_argument("--jitter", type=float, default=Schedule().jitter, metavar="FRACTION",
                   help="each round starts up to this fraction of the interval into its slot (default 0.1)")
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--connect-timeout", type=float, default=3.0,
                   help="per connect (default 3 s, trinarkular's probe timeout)")
    p.add_argument("--resolver", help="udp://HOST:PORT for endpoints named by host (default: the system's)")
    _consent_option(p)
    p.set_defaults(func=run_reachability)
    return p


def _vantage_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_argument_group("vantage point (privacy)")
    where.add_argument("--geoip-db", type=Path, action="append", default=[],
                       help="MaxMind country or ASN database (repeatable)")
    where.add_argument("--probe-cc", help="country code to record (default: GeoIP, else ZZ)")
    where.add_argument("--probe-asn", help="ASN to record, e.g. AS1234 (default: GeoIP, else AS0)")
    where.add_argument("--probe-ip", help="this probe's public IP, scrubbed from every measurement "
                                          "(default: as the test helper sees it, when there is one)")


def _consent_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument("--yes-i-understand", action="store_true",
                        help="acknowledge the risk notice (automation)")


def add_helper_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("helper", help="Serve the Web Connectivity test helper (ts-017).",
                              description="Serve the Web Connectivity test helper (ts-017).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--resolver", help="udp://HOST:PORT (default: the system resolver)")
    p.add_argument("--ca-file", help="extra trusted CA bundle (PEM)")
    p.add_argument("--allow-private-targets", action="store_true",
                   help="also connect to loopback, private, link-local and this machine's own addresses "
                        "(testbeds only: otherwise anyone can use the helper to reach them)")
    p.add_argument("--asn-db", action="append", default=[],
                   help="IP-to-ASN source for ip_info (.mmdb, ip-location-db CSV, or 'geoip2fast'); "
                        "repeatable, first wins (default: $NETVIGIL_ASN_DB)")
    p.set_defaults(func=run_helper)
    return p


def run_probe(args: argparse.Namespace) -> int:
    if not _consented(args):
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
    try:
        signer = None if args.no_sign else probe_signer(args.key)
    except (OSError, KeyFileError) as exc:
        print(f"netvigil probe: {exc}", file=sys.stderr)
        return 1
    options = RunOptions(output=args.output, concurrency=args.concurrency, progress=not args.no_progress,
                         spool=spool, collector=collector, signer=signer)
    if args.schedule_hours:
        await run_scheduled(inputs, config, options, hours=args.schedule_hours)
        return 0
    stats = await run_list(inputs, config, options)
    print(f"measured {stats.measured}, skipped {stats.skipped} already in {args.output}"
          + (f", submitted {stats.submitted}" if collector else ""), file=sys.stderr)
    return 0


def _signing_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument("--key", type=Path, metavar="FILE",
                        help="signing key, created (0600) on first run (default $NETVIGIL_PROBE_KEY or the XDG path)")
    parser.add_argument("--no-sign", action="store_true", help="write unsigned measurements")


def probe_signer(path: Path | None) -> Signer:
    """The probe's key, created on first run; its public line is what a collector must trust."""
    signer, created = load_or_create(path or default_probe_key_path())
    if created:
        print(f"created signing key {path or default_probe_key_path()}: give the collector this line "
              f"(`netvigil keys` prints it again):\n{signer.key_line()}", file=sys.stderr)
    return signer


def run_dns_check_command(args: argparse.Namespace) -> int:
    if not _consented(args):
        return 2
    try:
        domains = unique([Input(d) for d in args.domains]
                         + (read_url_file(args.input_file) if args.input_file else []))
        resolvers = [parse_resolver(r) for r in args.resolvers]
        config = ProbeConfig(ca_file=args.ca_file, dns_timeout=args.dns_timeout,
                             connect_timeout=args.connect_timeout, tls_timeout=args.tls_timeout,
                             http_timeout=args.http_timeout, probe_ip=args.probe_ip)
        Net.from_config(config)  # validate before anything runs
    except (InputError, ConfigError) as exc:
        print(f"netvigil dns-check: {exc}", file=sys.stderr)
        return 1
    if not domains:
        print("netvigil dns-check: no domain to resolve (give domains or --input-file)", file=sys.stderr)
        return 1
    return asyncio.run(_dns_check(args, domains, resolvers, config))


async def _dns_check(args: argparse.Namespace, domains: list[Input], resolvers: list[Resolver],
                     config: ProbeConfig) -> int:
    config = await _vantage_point(args, config)
    try:
        signer = None if args.no_sign else probe_signer(args.key)
    except (OSError, KeyFileError) as exc:
        print(f"netvigil dns-check: {exc}", file=sys.stderr)
        return 1
    options = RunOptions(output=args.output, concurrency=args.concurrency, progress=not args.no_progress,
                         signer=signer)
    stats = await run_dns_check(domains, resolvers, config, options)
    print(f"checked {stats.measured}, skipped {stats.skipped} already in {args.output}", file=sys.stderr)
    return 0


def run_reachability(args: argparse.Namespace) -> int:
    if not _consented(args):
        return 2
    try:
        endpoints = _endpoints(args)
        schedule = Schedule(rounds=args.rounds, interval=args.interval, jitter=args.jitter)
        net = Net.from_config(ProbeConfig(resolver=args.resolver, connect_timeout=args.connect_timeout))
    except ConfigError as exc:
        print(f"netvigil reachability: {exc}", file=sys.stderr)
        return 1
    if not endpoints:
        print("netvigil reachability: no endpoint (give HOST:PORT or --endpoints-file)", file=sys.stderr)
        return 1
    try:
        rounds = asyncio.run(_reachability(args.output, endpoints, net, schedule, args.concurrency))
    except KeyboardInterrupt:  # the way an unattended run with --rounds 0 ends; every round is written
        return 0
    print(f"{rounds} rounds towards {len(endpoints)} endpoints written to {args.output}", file=sys.stderr)
    return 0


def _endpoints(args: argparse.Namespace) -> list[Endpoint]:
    found = [parse_endpoint(e, entity=args.entity) for e in args.endpoints]
    if args.endpoints_file:
        found += read_endpoints(args.endpoints_file, entity=args.entity)
    return found


async def _reachability(output: Path, endpoints: list[Endpoint], net: Net, schedule: Schedule,
                        concurrency: int) -> int:
    with append_jsonl(output) as out:
        return await run_rounds(endpoints, net=net, schedule=schedule, concurrency=concurrency,
                                emit=lambda result: write_jsonl(out, result.to_dict()))


def _consented(args: argparse.Namespace) -> bool:
    return ensure_consent(assume_yes=args.yes_i_understand, stdin=sys.stdin, stderr=sys.stderr)


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
        asn = open_asn_lookup(args.asn_db) if args.asn_db else default_asn_lookup()
        helper = await start_helper(host=args.host, port=args.port, resolver=args.resolver,
                                    ca_file=args.ca_file, allow_private_targets=args.allow_private_targets,
                                    asn=asn)
        print(f"netvigil helper listening on {helper.url}", file=sys.stderr)
        await helper.serve_forever()

    try:
        asyncio.run(serve())
    except (ConfigError, OSError, AsnDataError) as exc:
        print(f"netvigil helper: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0
