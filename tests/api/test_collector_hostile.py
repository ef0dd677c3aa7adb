"""The collector under attack (issue 10): bad uids, poison numbers, uid theft, errors on keep-alive.

Real uvicorn servers on 127.0.0.1 over real DuckDB files, as in test_collector.py.
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import orjson
import pytest
from observatory_helpers import Running, auth, running, settings

from netvigil.store.db import open_store
from netvigil.testbed.synthetic import generate

OONI_UID = "20231101164649.496416_IT_webconnectivity_96d8e1c21db4a0ea"
OLD_OONI_UID = "01202007106531b7e19c05e300cacea8803d9f9c"


def _measurements(n: int, seed: int = 5) -> list[dict]:
    return [g.measurement for g in generate(n, seed=seed, max_body=1_000)]


def _post(server: Running, lines: list[bytes], *, batch: bool = True):
    content_type = "application/x-ndjson" if batch else "application/json"
    return server.client.post("/api/v1/measurements", content=b"\n".join(lines), headers=auth(content_type))


# name -> the measurement_uid submitted; every one must be refused with a reason, never a 500
REFUSED_UIDS = {
    "a number": 12345,
    "an object": {"$gt": ""},
    "a list": ["x"],
    "a path": "../../etc/passwd",
    "100,000 characters": "2" * 100_000,
    "a free-form name": "my-measurement",
    "a shape with a slash": "20231101164649.496416_IT_web/connectivity_96d8e1c21db4a0ea",
}


@pytest.mark.parametrize("name", REFUSED_UIDS)
def test_a_record_with_an_unusable_uid_is_quarantined_with_a_reason(name: str, fresh: Running) -> None:
    record = _measurements(1)[0] | {"measurement_uid": REFUSED_UIDS[name]}
    reply = _post(fresh, [orjson.dumps(record)], batch=False)
    assert reply.status_code == 422, reply.text
    [result] = reply.json()["records"]
    assert result["status"] == "quarantined"
    assert result["reason"].startswith("invalid measurement_uid")


def test_ooni_and_netvigil_uid_shapes_are_accepted_and_addressable(fresh: Running) -> None:
    first, second, third = _measurements(3)
    lines = [orjson.dumps(first | {"measurement_uid": OONI_UID}),
             orjson.dumps(second | {"measurement_uid": OLD_OONI_UID}), orjson.dumps(third)]
    reply = _post(fresh, lines)
    assert reply.status_code == 200
    uids = [r["uid"] for r in reply.json()["records"]]
    assert [r["status"] for r in reply.json()["records"]] == ["stored"] * 3
    assert uids[:2] == [OONI_UID, OLD_OONI_UID]
    for uid, line in zip(uids, lines, strict=True):
        assert fresh.client.get(f"/api/v1/measurements/{uid}/raw").content == line


def test_a_batch_with_non_string_uids_stores_the_rest(fresh: Running) -> None:
    good = _measurements(3)
    lines = [orjson.dumps(good[0]), orjson.dumps(good[1] | {"measurement_uid": 12345}),
             orjson.dumps(good[2] | {"measurement_uid": {"a": 1}}), orjson.dumps(_measurements(1, seed=9)[0])]
    reply = _post(fresh, lines)
    assert reply.status_code == 200
    assert [r["status"] for r in reply.json()["records"]] == ["stored", "quarantined", "quarantined", "stored"]


def test_a_poison_number_in_a_batch_costs_only_its_record(tmp_path: Path) -> None:
    """A port of 2^31 used to make the whole batch a 500 and lose the good records with it."""
    good = [orjson.dumps(m) for m in _measurements(20)]
    poison = _measurements(1, seed=7)[0]
    poison["test_keys"]["tcp_connect"] = [{"ip": "93.184.215.14", "port": 987654321,
                                           "status": {"success": True, "failure": None}}]
    lines = [*good[:10], orjson.dumps(poison).replace(b"987654321", str(2 ** 31).encode()), *good[10:]]
    db = tmp_path / "poison.duckdb"
    with running(settings(db)) as server:
        reply = _post(server, lines)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["stored"], body["quarantined"]) == (20, 1)
    [bad] = [r for r in body["records"] if r["status"] == "quarantined"]
    assert bad["position"] == "line 11" and bad["reason"].startswith("number out of range")
    with open_store(db, read_only=True) as store:
        assert store.counts()["measurements"] == 20


def test_a_uid_taken_first_with_other_content_is_a_conflict_and_both_are_kept(tmp_path: Path) -> None:
    genuine, forged = _measurements(2)
    genuine_line = orjson.dumps(genuine | {"measurement_uid": OONI_UID})
    forged_line = orjson.dumps(forged | {"measurement_uid": OONI_UID})
    db = tmp_path / "conflict.duckdb"
    with running(settings(db)) as server:
        first = _post(server, [forged_line], batch=False)  # the key holder takes the uid first
        assert first.status_code == 200 and first.json()["records"][0]["status"] == "stored"
        second = _post(server, [genuine_line], batch=False)
        assert second.status_code == 409, second.text
        [result] = second.json()["records"]
        assert result["status"] == "conflict" and result["uid"] == OONI_UID
        assert result["sha256"] == hashlib.sha256(genuine_line).hexdigest()
        assert hashlib.sha256(forged_line).hexdigest() in result["reason"]
        again = _post(server, [forged_line], batch=False)  # the identical record is a plain duplicate
        assert again.status_code == 200 and again.json()["records"][0]["status"] == "duplicate"
        in_batch = _post(server, [orjson.dumps(m) for m in _measurements(2, seed=8)] + [genuine_line])
        assert in_batch.status_code == 200
        assert [r["status"] for r in in_batch.json()["records"]] == ["stored", "stored", "conflict"]
    with open_store(db, read_only=True) as store:
        entries = store.quarantine_entries()
        assert store.raw(OONI_UID) == forged_line
    conflicts = [e for e in entries if e["category"] == "uid conflict"]
    hashes = {e["sha256"] for e in conflicts}
    assert hashes == {hashlib.sha256(genuine_line).hexdigest(), hashlib.sha256(forged_line).hexdigest()}
    assert all(OONI_UID in e["reason"] for e in conflicts)


def test_two_records_of_one_batch_with_one_uid_and_different_content_conflict(fresh: Running) -> None:
    one, other = _measurements(2)
    lines = [orjson.dumps(one | {"measurement_uid": OONI_UID}), orjson.dumps(other | {"measurement_uid": OONI_UID})]
    reply = _post(fresh, lines)
    assert reply.status_code == 200
    assert [r["status"] for r in reply.json()["records"]] == ["stored", "conflict"]
    assert reply.json()["conflicts"] == 1


def test_the_connection_survives_a_500(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a 500 the next request on the same keep-alive connection is answered, not reset."""
    from netvigil.store import queries

    def broken(con, uid):
        raise RuntimeError("a bug in a query")

    monkeypatch.setattr(queries, "measurement", broken)
    with running(settings(tmp_path / "e.duckdb")) as server:
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            request = f"GET /api/v1/measurements/{OONI_UID} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
            sock.sendall(request)
            first = _read_response(sock)
            assert first.startswith(b"HTTP/1.1 500") and b"internal_error" in first
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            second = _read_response(sock)
            assert second.startswith(b"HTTP/1.1 200"), second


def _read_response(sock: socket.socket) -> bytes:
    """One HTTP/1.1 response with a Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed in the body"
        body += chunk
    return head + b"\r\n\r\n" + body
