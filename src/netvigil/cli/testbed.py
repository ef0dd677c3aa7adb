"""``netvigil testbed``: run, bring up and list censorship scenarios.

* ``testbed run SCENARIO... [--output FILE] [--mode loopback|netns]`` measures
  every site of each scenario through the testbed and prints, per site, the
  expected and the obtained verdict, then a confusion matrix.  Exit status 0
  when every verdict matches, 1 when one does not, 2 for a scenario that cannot
  be read or a mode that does not exist or cannot run here (netns without
  root), 130 when interrupted (Ctrl-C).  ``--output`` keeps the measurements
  as JSON lines (each annotated with ``testbed_scenario``, ``testbed_client``
  and ``testbed_expected``).
* ``testbed up SCENARIO [--mode loopback|netns]`` keeps the network up until
  Ctrl-C and prints how to point ``dig`` and ``curl`` at it.

Modes: ``loopback`` (default, no root) runs the network in this process on
127.0.0.0/8 with a censoring SOCKS5 middle; ``netns`` (root) runs it in Linux
network namespaces with an in-path censor (iptables, tc), servers as
processes, and the probe inside the client's namespace.
* ``testbed list`` names the library's scenarios.
* ``testbed clean`` (root) removes what namespace-mode runs killed by SIGKILL
  left: namespaces ``nv-<pid>-*`` whose process is gone, the processes still in
  them, their temporary folders.  A run that is alive is never touched.

SIGTERM is handled like Ctrl-C: the testbed is taken down in order.

SCENARIO is a file or a library scenario's name; ``all`` is the whole library.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import orjson

from netvigil.store.reference_data import load_default_fingerprints
from netvigil.testbed.loopback.testbed import LoopbackTestbed
from netvigil.testbed.netns.testbed import NamespaceTestbed
from netvigil.testbed.runner import (
    BACKENDS,
    ScenarioReport,
    UnavailableMode,
    backend_for,
    format_confusion,
    format_results,
    run_scenario,
)
from netvigil.testbed.scenarios.library import find_scenario, library_paths
from netvigil.testbed.scenarios.load import ScenarioError, load_scenario
from netvigil.testbed.scenarios.scenario import Scenario

INTERRUPTED = 130  # the shell's status for a command ended by SIGINT


def add_testbed_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``testbed`` and its subcommands; each sets ``func(args) -> exit code``."""
    testbed = subparsers.add_parser("testbed", help="Censorship scenarios, reproduced offline.",
                                    description=__doc__.split("\n\n")[0])
    commands = testbed.add_subparsers(dest="testbed_command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="measure every site and compare with the expected verdicts")
    run.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="a file, a library name, or all")
    run.add_argument("--output", type=Path, metavar="FILE", help="write the measurements here (JSON lines)")
    _mode_option(run)
    run.set_defaults(func=_run)
    up = commands.add_parser("up", help="keep a scenario's network up for manual work (Ctrl-C stops it)")
    up.add_argument("scenario", metavar="SCENARIO", help="a file or a library name")
    _mode_option(up)
    up.set_defaults(func=_up)
    commands.add_parser("list", help="the library's scenarios").set_defaults(func=_list)
    commands.add_parser("clean", help="remove what killed namespace-mode runs left behind (root; "
                                      "runs still alive are never touched)").set_defaults(func=_clean)
    return testbed


def _mode_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", default="loopback", choices=list(BACKENDS),
                        help="loopback (default, no root: in this process, through a SOCKS5 middle) or "
                             "netns (root: network namespaces, an in-path censor, real ports 80 and 443)")


def _load(names: list[str]) -> list[Scenario] | None:
    try:
        return [load_scenario(path) for name in names for path in find_scenario(name)]
    except (ScenarioError, FileNotFoundError) as exc:
        print(f"netvigil testbed: {exc}", file=sys.stderr)
        return None


def _run(args: argparse.Namespace) -> int:
    scenarios = _load(args.scenarios)
    if scenarios is None:
        return 2
    if args.output and not _writable(args.output):
        return 2
    reports: list[ScenarioReport] = []
    fingerprints = load_default_fingerprints()
    previous = signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        for scenario in scenarios:
            report = run_scenario(scenario, args.mode, fingerprints=fingerprints)
            print(format_results(report), flush=True)
            reports.append(report)
    except UnavailableMode as exc:
        print(f"netvigil testbed: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("netvigil testbed: interrupted; the testbed was taken down", file=sys.stderr)
        return INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
    results = [r for report in reports for r in report.results]
    print()
    print(format_confusion(results))
    wrong = [r for r in results if not r.match]
    print(f"\n{len(results) - len(wrong)} of {len(results)} verdicts as expected "
          f"({sum(r.seconds for r in reports):.1f} s)")
    if args.output:
        with args.output.open("wb") as out:
            for r in results:
                out.write(orjson.dumps(r.measurement) + b"\n")
    return 1 if wrong else 0


def _terminate_as_interrupt(signum: int, frame: object) -> None:
    """SIGTERM is handled as Ctrl-C: the same orderly teardown, wherever the run is.

    Re-sent as SIGINT, it reaches whatever handles Ctrl-C at that moment (asyncio's
    runner cancels the scenario's task, so the testbed's ``__aexit__`` runs)."""
    os.kill(os.getpid(), signal.SIGINT)


def _clean(args: argparse.Namespace) -> int:
    from netvigil.testbed.netns.clean import clean
    from netvigil.testbed.netns.testbed import unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        print(f"netvigil testbed clean: {reason}", file=sys.stderr)
        return 2
    done = clean()
    for kind, items in (("namespace", done.namespaces), ("folder", done.folders),
                        ("process", [str(p) for p in done.processes])):
        for item in items:
            print(f"removed {kind} {item}")
    if done.kept_live:
        print(f"kept {len(done.kept_live)} item(s) of runs still alive")
    for failure in done.failures:
        print(f"netvigil testbed clean: {failure}", file=sys.stderr)
    if not (done.namespaces or done.folders or done.processes):
        print("nothing left behind by dead runs")
    return 1 if done.failures else 0


def _writable(path: Path) -> bool:
    """Create the output's folder and file before the work, so a bad path costs nothing measured."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError as exc:
        print(f"netvigil testbed: cannot write {path}: {exc}", file=sys.stderr)
        return False
    return True


def _up(args: argparse.Namespace) -> int:
    scenarios = _load([args.scenario])
    if scenarios is None:
        return 2
    try:
        asyncio.run(_serve(scenarios[0], args.mode))
    except UnavailableMode as exc:
        print(f"netvigil testbed: {exc}", file=sys.stderr)
        return 2
    print("testbed stopped; everything it started is gone.")
    return 0


async def _serve(scenario: Scenario, mode: str = "loopback") -> None:
    """Serve until SIGINT (Ctrl-C) or SIGTERM, then leave the testbed normally."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with backend_for(mode)(scenario) as bed:
        if isinstance(bed, NamespaceTestbed):
            print(bed.instructions(), flush=True)
        else:
            assert isinstance(bed, LoopbackTestbed)
            print(instructions(scenario, bed), flush=True)
        await stop.wait()


def instructions(scenario: Scenario, bed: LoopbackTestbed) -> str:
    """How to point dig and curl at a running loopback testbed."""
    assert bed.ports is not None and bed.ca_file is not None
    lines = [f"testbed {scenario.name} is up: {scenario.description}",
             f"CA to trust: {bed.ca_file}", f"helper: {bed.helper_url}", ""]
    for client in scenario.clients:
        ends = bed.endpoints(client.name)
        dns_host, _, dns_port = ends.resolver.removeprefix("udp://").rpartition(":")
        dig = f"dig @{dns_host} -p {dns_port}"
        lines.append(f"client {client.name}: resolver {ends.resolver}, SOCKS5 middle {ends.socks5}")
        for site in scenario.sites:
            url = bed.url(site)
            port = bed.ports.https if site.scheme == "https" else bed.ports.http
            # No usable answer (NXDOMAIN, timeout) becomes 0.0.0.0, which the middle finds
            # unreachable: curl must never fall back to the system's resolver.
            answer = f"$({dig} +short {site.domain} | grep -m1 -E '^[0-9.]+$' || echo 0.0.0.0)"
            lines += [f"  {site.domain} (expected: {site.expected(client.name)})",
                      f"    {dig} {site.domain}",
                      f'    curl --socks5 {ends.socks5} --resolve "{site.domain}:{port}:{answer}" '
                      f"--cacert {ends.ca_file} {url}"]
    lines.append("\nCtrl-C stops it.")
    return "\n".join(lines)


def _list(args: argparse.Namespace) -> int:
    for path in library_paths():
        scenario = load_scenario(path)
        print(f"{path.stem:<20} {len(scenario.sites):>2} sites  {scenario.description}")
    return 0
