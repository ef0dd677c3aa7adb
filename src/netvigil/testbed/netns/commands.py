"""The one way namespace mode runs commands: argv lists, checked, failures explained.

Everything namespace mode does to the system goes through here: :func:`run`
for short commands (``ip``, ``iptables-restore``, ``tc``, ``sysctl``),
:func:`run_async` for a probe measured in a client's namespace, and
:class:`Service` for the long-running servers.  Never a shell string, always
checked: a failure raises :class:`CommandFailed` with the command and what it
printed on stderr, because "exit status 2" alone does not say which rule the
kernel refused.

Tools are looked up in ``/usr/sbin`` and ``/sbin`` too, where Debian puts
``ip`` and ``iptables``, so that a PATH without them (some CI shells) is no
reason to fail.
"""

from __future__ import annotations

import asyncio
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import orjson

import netvigil

COMMAND_TIMEOUT = 30.0
STOP_GRACE = 5.0  # seconds a service has to end after SIGTERM before it is killed
EXIT_WAIT = 1.0  # seconds for a service whose output ended to report its status
_SBIN = ("/usr/sbin", "/sbin")
_LOG_TAIL = 2000


class CommandFailed(RuntimeError):
    """A command exited non-zero, timed out, or is not installed."""

    def __init__(self, argv: Sequence[str], detail: str) -> None:
        super().__init__(f"{' '.join(argv)}: {detail}")
        self.argv = tuple(argv)
        self.detail = detail


def tool(name: str) -> str | None:
    """The absolute path of a system tool, looking in the sbin folders too."""
    path = os.pathsep.join([os.environ.get("PATH", ""), *_SBIN])
    return shutil.which(name, path=path)


def _resolved(argv: Sequence[str]) -> list[str]:
    found = tool(argv[0])
    if found is None:
        raise CommandFailed(argv, "not installed")
    return [found, *argv[1:]]


def run(argv: Sequence[str], *, stdin: str | None = None, timeout: float = COMMAND_TIMEOUT) -> str:
    """Run ``argv`` to completion and return its standard output."""
    try:
        done = subprocess.run(_resolved(argv), check=True, capture_output=True, text=True, input=stdin,
                              timeout=timeout)
    except subprocess.CalledProcessError as exc:
        raise CommandFailed(argv, f"exit status {exc.returncode}: {exc.stderr.strip()}") from exc
    except subprocess.TimeoutExpired as exc:
        raise CommandFailed(argv, f"no result within {timeout} s") from exc
    return done.stdout


async def run_async(argv: Sequence[str], *, stdin: bytes, timeout: float) -> bytes:
    """Run ``argv`` without blocking the event loop; cancelled or late, the process is killed."""
    child = await asyncio.create_subprocess_exec(
        *_resolved(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=child_environment(), start_new_session=True)
    try:
        out, err = await asyncio.wait_for(child.communicate(stdin), timeout)
    except TimeoutError as exc:
        raise CommandFailed(argv, f"no result within {timeout} s") from exc
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    if child.returncode != 0:
        tail = err.decode("utf-8", "replace").strip()[-_LOG_TAIL:]
        raise CommandFailed(argv, f"exit status {child.returncode}: {tail}")
    return out


def in_namespace(namespace: str, argv: Sequence[str]) -> list[str]:
    """``argv`` run inside a network namespace (``ip netns exec`` execs it: same process id)."""
    return ["ip", "netns", "exec", namespace, tool(argv[0]) or argv[0], *argv[1:]]


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def child_environment() -> dict[str, str]:
    """This environment, with netvigil importable in children whatever their working directory."""
    root = str(Path(netvigil.__file__).resolve().parents[1])
    inherited = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + inherited if inherited else "")}


class ServiceFailed(RuntimeError):
    """A service ended, or said nothing, before it was ready."""


class Service:
    """A long-running child process that prints one JSON line when it is ready.

    It runs in its own session, so a Ctrl-C at the terminal reaches only the
    testbed, which then stops it in order.  Its standard input stays open:
    the child ends on EOF, so it cannot outlive a testbed that was killed.
    """

    def __init__(self, name: str, argv: Sequence[str], log: Path) -> None:
        self.name = name
        self.log = log
        with log.open("wb") as sink:
            self.process: subprocess.Popen[bytes] = subprocess.Popen(
                _resolved(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=sink,
                env=child_environment(), start_new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def ready(self, deadline: float) -> dict[str, Any]:
        """Wait (until the monotonic ``deadline``) for the ready line, and return it."""
        stdout = self.process.stdout
        assert stdout is not None
        line = _read_line(stdout, deadline)
        if not line:
            try:
                state = f"ended (status {self.process.wait(EXIT_WAIT)})"
            except subprocess.TimeoutExpired:
                state = "said nothing in time"
            raise ServiceFailed(f"{self.name} {state}: {self.log_tail()}")
        ready: dict[str, Any] = orjson.loads(line)
        return ready

    def log_tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-_LOG_TAIL:].strip() or "(no output)"

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after :data:`STOP_GRACE`; returns once the process is gone."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def _read_line(stream: IO[bytes], deadline: float) -> bytes:
    """One line of ``stream``, or b"" at EOF or at the deadline."""
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([stream], [], [], left)
        if readable:
            return stream.readline()
    return b""
