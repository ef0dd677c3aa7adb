"""An acknowledged measurement survives the server being killed (SIGKILL) mid-load."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import orjson
from observatory_helpers import API_KEY, auth, free_port, serve_command, wait_ready

from netvigil.testbed.synthetic import generate

BATCHES = 200  # bounded load: at most this many requests of BATCH records, for at most LOAD_SECONDS
BATCH = 5
LOAD_SECONDS = 20.0
KILL_AFTER_ACKS = 15


def _start(db: Path, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, NETVIGIL_API_KEYS=API_KEY)
    return subprocess.Popen(serve_command(db, port), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_every_acknowledged_measurement_is_there_after_sigkill_and_restart(tmp_path: Path) -> None:
    db, port = tmp_path / "kill.duckdb", free_port()
    url = f"http://127.0.0.1:{port}"
    lines = [orjson.dumps(g.measurement) for g in generate(BATCHES * BATCH, seed=11, max_body=3_000)]
    acknowledged: dict[str, str] = {}
    server = _start(db, port)
    try:
        wait_ready(url)
        stop = threading.Event()

        def load() -> None:
            deadline = time.monotonic() + LOAD_SECONDS
            with httpx.Client(base_url=url, timeout=10) as client:
                for i in range(BATCHES):
                    if stop.is_set() or time.monotonic() > deadline:
                        return
                    try:
                        reply = client.post("/api/v1/measurements", headers=auth("application/x-ndjson"),
                                            content=b"\n".join(lines[i * BATCH:(i + 1) * BATCH]))
                    except httpx.TransportError:
                        return  # the server died mid-request: that batch was never acknowledged
                    if reply.status_code == 200:
                        acknowledged.update((r["uid"], r["sha256"]) for r in reply.json()["records"])

        worker = threading.Thread(target=load)
        worker.start()
        while len(acknowledged) < KILL_AFTER_ACKS * BATCH and worker.is_alive():
            time.sleep(0.01)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        stop.set()
        worker.join(timeout=15)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
    assert len(acknowledged) >= KILL_AFTER_ACKS * BATCH
    restarted = _start(db, port)
    try:
        wait_ready(url)
        with httpx.Client(base_url=url, timeout=10) as client:
            for uid, sha256 in acknowledged.items():
                reply = client.get(f"/api/v1/measurements/{uid}")
                assert reply.status_code == 200, uid
                assert reply.json()["sha256"] == sha256
            total = client.get("/api/v1/aggregation").json()["result"][0]["measurement_count"]
            assert total == client.get("/api/v1/health").json()["measurements"]
    finally:
        restarted.terminate()
        restarted.wait(timeout=15)
