"""Shared by the namespace-mode tests: when to skip, and a snapshot of the machine's state.

The tests skip only when namespace mode cannot run at all: not root, or ``ip
netns`` (or a tool it needs) unavailable; the reason says which.

:func:`machine_state` is what "nothing left behind" is compared on.  What a
run owns is found by its name, ``nv-<pid>-<n>``, which is in its namespaces'
names, its temporary folder's name and so in its services' command lines,
and in its probes' command lines: so other testbeds running on the same
machine at the same time do not disturb the comparison.  What belongs to the
machine's own namespace (interfaces, routes, iptables rules) is compared whole.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from netvigil.testbed.netns.testbed import TEMP_PREFIX, unavailable_reason
from netvigil.testbed.netns.commands import run, tool
from netvigil.testbed.netns.layout import NAME_PREFIX

_REASON = unavailable_reason()
needs_namespaces = pytest.mark.skipif(_REASON is not None, reason=f"namespace mode cannot run: {_REASON}")
TESTBED_MODULES = ("netvigil.testbed.netns.service", "netvigil.testbed.netns.probe")


@dataclass(frozen=True, slots=True)
class MachineState:
    namespaces: frozenset[str]  # the owner's network namespaces
    processes: frozenset[tuple[int, str]]  # the owner's services and probes
    folders: frozenset[str]  # the owner's temporary folders
    links: frozenset[str]  # interfaces of the machine's own namespace
    routes: frozenset[str]  # its routes, every table
    rules: str  # its iptables rules ("" without iptables)

    @property
    def owned(self) -> tuple[frozenset[str], frozenset[tuple[int, str]], frozenset[str]]:
        return self.namespaces, self.processes, self.folders


def machine_state(owner: int) -> MachineState:
    """The state of the machine, and what testbeds run by process ``owner`` have on it."""
    mark = f"{NAME_PREFIX}{owner}-"
    return MachineState(
        namespaces=frozenset(n for n in _column(["ip", "netns", "list"], 0) if n.startswith(mark)),
        processes=frozenset(_testbed_processes(mark)),
        folders=frozenset(p.name for p in Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}{mark}*")),
        links=frozenset(name.rstrip(":") for name in _column(["ip", "-o", "link", "show"], 1)),
        routes=frozenset(run(["ip", "route", "show", "table", "all"]).splitlines()),
        rules=_iptables_rules(),
    )


def assert_nothing_left(before: MachineState, owner: int) -> None:
    """Nothing of ``owner``'s testbeds is left, and the machine's own namespace is as it was."""
    after = machine_state(owner)
    assert after.namespaces == frozenset(), "namespaces left behind"
    assert after.processes == frozenset(), "processes left behind"
    assert after.folders == frozenset(), "temporary folders left behind"
    assert after.links == before.links
    assert after.routes == before.routes
    assert after.rules == before.rules


def _column(argv: list[str], index: int) -> list[str]:
    return [line.split()[index] for line in run(argv).splitlines() if line.strip()]


def _iptables_rules() -> str:
    if tool("iptables-save") is None:
        return ""
    return "\n".join(line for line in run(["iptables-save"]).splitlines() if not line.startswith("#"))


def _testbed_processes(mark: str) -> list[tuple[int, str]]:
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        command = " ".join(process.info["cmdline"] or ())
        if mark in command and any(module in command for module in TESTBED_MODULES):
            found.append((process.info["pid"], command))
    return found
