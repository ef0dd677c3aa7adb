"""``netvigil testbed clean``: remove what a namespace-mode run killed with SIGKILL left behind.

A run names everything it creates after its process id (``nv-<pid>-<n>``: its
namespaces ``nv-<pid>-<n>-<role>``, its temporary folder
``netvigil-netns-nv-<pid>-<n>-*``), so what a dead run left is found by name,
and a run whose process is alive is never touched -- other testbeds may be
running on the same machine.  For each dead run: the processes still inside its
namespaces are killed (orphan probes, services), its namespaces are deleted
(their veth links, addresses, routes, iptables rules and qdiscs go with them),
then its temporary folder (certificates, logs, any keys) is removed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from netvigil.testbed.netns.commands import CommandFailed, run
from netvigil.testbed.netns.layout import NAME_PREFIX

TEMP_PREFIX = "netvigil-netns-"  # as netns.TEMP_PREFIX (not imported: that module pulls in the whole mode)
_NAMESPACE = re.compile(rf"{re.escape(NAME_PREFIX)}(\d+)-\d+-\S+")
_FOLDER = re.compile(rf"{re.escape(TEMP_PREFIX)}{re.escape(NAME_PREFIX)}(\d+)-\d+-.*")


@dataclass
class Cleaned:
    """What :func:`clean` removed, and what it could not."""

    namespaces: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    processes: list[int] = field(default_factory=list)
    kept_live: list[str] = field(default_factory=list)  # leftovers of runs still alive: not touched
    failures: list[str] = field(default_factory=list)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def clean(*, temp_dir: Path | None = None) -> Cleaned:
    """Remove every leftover of dead namespace-mode runs on this machine."""
    done = Cleaned()
    for name in run(["ip", "netns", "list"]).split():
        match = _NAMESPACE.fullmatch(name)
        if match is None:
            continue
        if pid_alive(int(match.group(1))):
            done.kept_live.append(name)
            continue
        _remove_namespace(name, done)
    for folder in sorted(Path(temp_dir or tempfile.gettempdir()).glob(f"{TEMP_PREFIX}{NAME_PREFIX}*")):
        match = _FOLDER.fullmatch(folder.name)
        if match is None or not folder.is_dir():
            continue
        if pid_alive(int(match.group(1))):
            done.kept_live.append(str(folder))
            continue
        try:
            shutil.rmtree(folder)
            done.folders.append(str(folder))
        except OSError as exc:
            done.failures.append(f"{folder}: {exc}")
    return done


def _remove_namespace(name: str, done: Cleaned) -> None:
    """Kill what still runs inside (a namespace with a process in it outlives its deletion), then delete it."""
    try:
        pids = [int(p) for p in run(["ip", "netns", "pids", name]).split()]
    except CommandFailed as exc:
        done.failures.append(str(exc))
        pids = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
            done.processes.append(pid)
        except ProcessLookupError:
            pass
    try:
        run(["ip", "netns", "delete", name])
        done.namespaces.append(name)
    except CommandFailed as exc:
        done.failures.append(str(exc))
