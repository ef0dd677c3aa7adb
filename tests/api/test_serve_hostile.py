"""``netvigil serve`` as its own process, attacked and shared (issue 10).

* slowloris: connections that send headers or a body too slowly are closed
  after the configured timeouts, while the server keeps answering others;
* a second ``serve`` on a database another process holds exits with one line
  naming the holder, no traceback;
* ``report`` runs while ``serve`` holds the database (through its API), and
  writes the same report as over the file itself.

Every process and socket here is bounded in time.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from observatory_helpers import API_KEY, free_port, seed, serve_command, wait_ready

REPORT_ARGS = ("--country", "IR", "--from", "2026-10-01", "--to", "2026-10-28", "--no-pdf")


def _serve(db: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    env = dict(os.environ, NETVIGIL_API_KEYS=API_KEY)
    return subprocess.Popen([*serve_command(db, port), *extra], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _stop(server: subprocess.Popen[str]) -> str:
    server.terminate()
    try:
        _, err = server.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        _, err = server.communicate()
    return err


def _closed_by_server(sock: socket.socket, deadline: float) -> bool:
    """Whether the server closes ``sock`` before ``deadline`` (reading whatever it sends first)."""
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            if not sock.recv(65536):
                return True
        except TimeoutError:
            return False
        except ConnectionError:
            return True
    return False


def test_slow_headers_and_bodies_are_cut_off_and_others_still_served(tmp_path: Path) -> None:
    port = free_port()
    server = _serve(tmp_path / "s.duckdb", port, "--header-timeout", "1", "--body-timeout", "2")
    sockets: list[socket.socket] = []
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        for n in range(100):  # slowloris: a request line and one header, then nothing more
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n" if n else b"")  # one sends nothing at all
            sockets.append(sock)
        body = socket.create_connection(("127.0.0.1", port), timeout=5)
        body.sendall(b"POST /api/v1/measurements HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Authorization: Bearer " + API_KEY.encode() + b"\r\nContent-Length: 100000\r\n\r\n{")
        started = time.monotonic()
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5).status_code == 200
        for _ in range(6):  # a byte every half second: alive, but far slower than the body timeout allows
            time.sleep(0.5)
            try:
                body.sendall(b" ")
            except OSError:
                break
        deadline = started + 8
        assert all(_closed_by_server(sock, deadline) for sock in sockets), "slow header connections stayed open"
        assert _closed_by_server(body, deadline), "a slow body kept its connection open"
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5).status_code == 200
    finally:
        for sock in sockets:
            sock.close()
        _stop(server)


def test_a_second_serve_on_a_held_database_says_who_holds_it(tmp_path: Path) -> None:
    db, port = tmp_path / "held.duckdb", free_port()
    first = _serve(db, port)
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        second = _serve(db, free_port())
        try:
            out, err = second.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            second.kill()
            raise
        assert second.returncode == 1
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1, err
        assert "Traceback" not in err and "Traceback" not in out
        assert str(db) in lines[0] and f"process {first.pid}" in lines[0] and "serve" in lines[0]
    finally:
        _stop(first)


def _report(db: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "netvigil", "report", "--db", str(db), *REPORT_ARGS,
                           "--output", str(out)], capture_output=True, text=True, timeout=180)


def _without_generation_time(html: str) -> str:
    return re.sub(r"Generated \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", "Generated", html)


def test_report_runs_while_serve_holds_the_database(tmp_path: Path) -> None:
    db, port = tmp_path / "shared.duckdb", free_port()
    seed(db)
    server = _serve(db, port)
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        during = _report(db, tmp_path / "during")
        assert during.returncode == 0, during.stderr
        assert "Traceback" not in during.stderr
        assert "through the API" in during.stderr
    finally:
        _stop(server)
    after = _report(db, tmp_path / "after")
    assert after.returncode == 0, after.stderr
    name = "report-IR-20261001-20261029.html"
    held = (tmp_path / "during" / name).read_text()
    direct = (tmp_path / "after" / name).read_text()
    assert "Cited measurements" in held
    assert _without_generation_time(held) == _without_generation_time(direct)
    assert not (tmp_path / "shared.duckdb.serve.json").exists(), "serve left its address file behind"
