"""Signed measurements through a real collector, its transparency log, and `netvigil verify` offline.

Each kind of tampering the issue names is made for real — a changed byte in the
store, a signature by an unknown key, a forked tree head, a truncated proof, a
reordered log — and must be caught with a message a person understands.
"""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path

import duckdb
import orjson
import pytest
import zstandard
from observatory_helpers import Running, auth, running, settings

from netvigil.cli import main
from netvigil.engine import pipeline
from netvigil.evidence import merkle
from netvigil.evidence.bundle import parse_bundle
from netvigil.evidence.records import LogEntry, TreeHead
from netvigil.evidence.signing import Signer, sign_measurement
from netvigil.evidence.verify import verify_bundle, verify_heads
from netvigil.store.db import open_store
from netvigil.store.keys import load_or_create
from netvigil.store.log import LogView, MerkleLog, evidence_bundle
from netvigil.store.reference_data import load_default_fingerprints
from netvigil.store.sources import check_record
from netvigil.testbed.synthetic import generate

PROBE = Signer.generate()


def signed(n: int, signer: Signer = PROBE, seed: int = 5) -> list[bytes]:
    return [orjson.dumps(sign_measurement(g.measurement, signer)) for g in generate(n, seed=seed, max_body=1_500)]


def post(server: Running, lines: list[bytes]) -> dict:  # type: ignore[type-arg]
    reply = server.client.post("/api/v1/measurements", content=b"\n".join(lines), headers=auth("application/x-ndjson"))
    assert reply.status_code == 200, reply.text
    return reply.json()


def verify_cli(path: Path, *extra: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["verify", str(path), *extra])
    return code, capsys.readouterr().out


def test_signed_measurements_are_logged_and_verify_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    unsigned = orjson.dumps(next(iter(generate(1, seed=9, max_body=1_000))).measurement)
    with running(settings(tmp_path / "c.duckdb")) as server:
        result = post(server, [*signed(6), unsigned])
        assert result["stored"] == 7
        head = server.client.get("/api/v1/log/head").json()
        uid = result["records"][2]["uid"]
        proof = server.client.get(f"/api/v1/log/proof/{uid}").json()
        bundle = server.client.get(f"/api/v1/log/evidence/{uid}").json()
        unsigned_bundle = server.client.get(f"/api/v1/log/evidence/{result['records'][6]['uid']}").json()
        assert server.client.get("/api/v1/log/proof/nope").status_code == 404
    tree_head = TreeHead.from_dict(head["tree_head"])
    assert tree_head.tree_size == 7 and proof["leaf_index"] == 2
    entry = LogEntry.from_dict(proof["entry"])
    assert entry.key_id == PROBE.key_id and entry.sha256 == result["records"][2]["sha256"]
    merkle.verify_inclusion(2, 7, entry.leaf_hash(), [bytes.fromhex(h) for h in proof["inclusion_proof"]],
                            tree_head.root_hash)
    assert verify_bundle(parse_bundle(bundle)).ok
    assert LogEntry.from_dict(unsigned_bundle["entries"][0]["entry"]).key_id is None
    keys = tmp_path / "probes.keys"
    keys.write_text(PROBE.key_line("test probe") + "\n")
    path = tmp_path / "evidence.json"
    path.write_bytes(orjson.dumps(bundle))
    code, out = verify_cli(path, "--keys", str(keys), capsys=capsys)
    assert code == 0, out
    assert "the evidence holds" in out and f"signed by probe key {PROBE.key_id[:16]}" in out


def test_changed_byte_in_the_stored_measurement_is_detected(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    db = tmp_path / "c.duckdb"
    with running(settings(db)) as server:
        uid = post(server, signed(3))["records"][1]["uid"]
    con = duckdb.connect(str(db))
    raw = zstandard.ZstdDecompressor().decompress(con.execute("SELECT raw FROM measurements WHERE uid = ?",
                                                              [uid]).fetchone()[0])
    at = raw.index(b'"probe_asn":"AS') + 16
    changed = raw[:at] + bytes([raw[at] ^ 1]) + raw[at + 1:]  # one digit of the ASN
    con.execute("UPDATE measurements SET raw = ? WHERE uid = ?", [zstandard.ZstdCompressor().compress(changed), uid])
    bundle = evidence_bundle(con, [uid], bodies=True)
    con.close()
    assert bundle is not None
    result = verify_bundle(bundle)
    assert [p.message for p in result.problems] == [
        ("its bytes no longer match the SHA-256 the log holds for it: the measurement was changed after it "
         "was collected")]
    path = tmp_path / "evidence.json"
    path.write_bytes(orjson.dumps(bundle.to_dict()))
    code, out = verify_cli(path, capsys=capsys)
    assert code == 1 and "FAIL measurement" in out and "changed after it was collected" in out


def test_signature_from_an_unknown_key_is_refused_by_collector_and_verify(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trusted = tmp_path / "probes.keys"
    trusted.write_text(PROBE.key_line() + "\n")
    stranger = Signer.generate()
    with running(settings(tmp_path / "c.duckdb", probe_keys=trusted)) as server:
        result = post(server, [*signed(1), *signed(1, stranger, seed=6)])
    assert [r["status"] for r in result["records"]] == ["stored", "quarantined"]
    assert "not among the trusted keys" in result["records"][1]["reason"]
    with running(settings(tmp_path / "open.duckdb")) as server:  # no keys file: accepted, key recorded
        uid = post(server, signed(1, stranger, seed=6))["records"][0]["uid"]
        bundle = server.client.get(f"/api/v1/log/evidence/{uid}").json()
    path = tmp_path / "evidence.json"
    path.write_bytes(orjson.dumps(bundle))
    code, out = verify_cli(path, "--keys", str(trusted), capsys=capsys)
    assert code == 1 and "not among the trusted keys" in out and "impostor" in out


def test_measurement_changed_after_signing_is_quarantined(tmp_path: Path) -> None:
    record = orjson.loads(signed(1)[0])
    record["test_keys"]["body_length_match"] = not record["test_keys"].get("body_length_match")
    with running(settings(tmp_path / "c.duckdb")) as server:
        result = post(server, [orjson.dumps(record)])
    assert result["records"][0]["status"] == "quarantined"
    assert "changed after key" in result["records"][0]["reason"]


def test_truncated_proof_is_detected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with running(settings(tmp_path / "c.duckdb")) as server:
        uid = post(server, signed(9))["records"][4]["uid"]
        bundle = server.client.get(f"/api/v1/log/evidence/{uid}").json()
    bundle["entries"][0]["inclusion_proof"] = bundle["entries"][0]["inclusion_proof"][:-1]
    path = tmp_path / "evidence.json"
    path.write_bytes(orjson.dumps(bundle))
    code, out = verify_cli(path, capsys=capsys)
    assert code == 1 and "not proven to be in the log" in out and "too few" in out and "truncated" in out


def test_forked_tree_head_is_detected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Same log key, two histories: the consistency proof the log serves cannot join them."""
    key = tmp_path / "log-key.pem"
    db = tmp_path / "c.duckdb"
    with running(settings(db, log_key=key)) as server:
        post(server, signed(4))
        post(server, signed(3, seed=7))
        good = server.client.get("/api/v1/log/consistency", params={"first": 4, "second": 7}).json()
    path = tmp_path / "consistency.json"
    path.write_bytes(orjson.dumps(good))
    code, out = verify_cli(path, capsys=capsys)
    assert code == 0 and "one consistent history" in out
    signer, _ = load_or_create(key)  # the same key signs a second history of the same first 4 leaves' size
    fork = MerkleLog(duckdb.connect(":memory:"), signer)
    fork.append([LogEntry(uid=f"fork-{i}", sha256="0" * 64) for i in range(4)])
    forked = fork.append([LogEntry(uid=f"fork-{i}", sha256="0" * 64) for i in range(4, 7)])
    assert forked is not None
    bad = {**good, "second": forked.to_dict(), "proof": [h.hex() for h in fork.consistency_proof(4, 7)]}
    path.write_bytes(orjson.dumps(bad))
    code, out = verify_cli(path, capsys=capsys)
    assert code == 1 and "not one history" in out and ("forked" in out or "rewritten" in out)
    same_size = verify_heads(TreeHead.from_dict(good["second"]), forked, [], log_key=signer.public_key)
    assert any("the log forked" in p.message for p in same_size.problems)


def test_reordered_log_is_detected_by_the_proofs(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    with running(settings(db)) as server:
        uids = [r["uid"] for r in post(server, signed(5))["records"]]
    con = duckdb.connect(str(db))
    con.execute("UPDATE log_leaves SET idx = CASE idx WHEN 1 THEN 3 WHEN 3 THEN 1 END WHERE idx IN (1, 3)")
    bundle = evidence_bundle(con, [uids[1]], bodies=True)
    assert bundle is not None
    problems = verify_bundle(bundle).problems
    assert problems and "not in the tree of 5 leaves" in problems[0].message
    assert any("reordered" in p for p in LogView(con).audit())


def test_stored_but_unlogged_measurements_are_logged_at_restart(tmp_path: Path) -> None:
    """What a crash between the store's commit and the log's leaves behind is appended on start."""
    db = tmp_path / "c.duckdb"
    with open_store(db) as store:
        pipeline.ingest(store, [check_record("api:probe:20261201T000000.000000Z:abcd", f"line {i}", line)
                      for i, line in enumerate(signed(2), 1)], load_default_fingerprints())
        pipeline.ingest(store, [check_record("ooni-import.jsonl", "line 1", orjson.dumps(
            next(iter(generate(1, seed=11, max_body=1_000))).measurement))], load_default_fingerprints())
    ooni_uid, collected_uid = con_uid(db, "ooni-import.jsonl"), con_uid(db, "api:%")
    with running(settings(db)) as server:
        head = server.client.get("/api/v1/log/head").json()["tree_head"]
        imported = server.client.get(f"/api/v1/log/status/{ooni_uid}").json()
        collected = server.client.get(f"/api/v1/log/status/{collected_uid}").json()
    assert head["tree_size"] == 2  # the imported OONI-style record is not the collector's to log
    assert (imported["signed"], imported["logged"]) == (False, False) and "unsigned" in imported["note"]
    assert (collected["signed"], collected["logged"], collected["key_id"]) == (True, True, PROBE.key_id)


def con_uid(db: Path, source: str) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT uid FROM measurements WHERE source LIKE ? LIMIT 1", [source]).fetchone()[0]


def test_report_embeds_proofs_and_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from netvigil.report.build import write_report
    from netvigil.store.database import open_database

    db = tmp_path / "c.duckdb"
    with running(settings(db)) as server:
        post(server, signed(120, seed=2))
    database = open_database(db)
    try:
        html, = write_report(database, "IR", datetime(2026, 10, 1), datetime(2026, 11, 1), tmp_path / "r", pdf=False)
    finally:
        database.close()
    text = html.read_text()
    assert 'id="netvigil-evidence"' in text and "Tamper evidence" in text
    code, out = verify_cli(html, capsys=capsys)
    assert code == 0, out
    assert out.count("ok   measurement") >= 2
    tampered = tmp_path / "tampered.html"
    tampered.write_text(text.replace('"sha256":"', '"sha256":"0', 1))
    code, out = verify_cli(tampered, capsys=capsys)
    assert code == 1 and "not proven to be in the log" in out


def test_unsigned_measurement_file_is_reported_as_unsigned(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    path = tmp_path / "m.jsonl"
    ooni = orjson.dumps(next(iter(generate(1, seed=3, max_body=1_000))).measurement)
    tampered = orjson.loads(signed(1)[0])
    tampered["input"] += "?changed"
    path.write_bytes(b"\n".join([ooni, signed(1)[0], orjson.dumps(copy.deepcopy(tampered))]) + b"\n")
    code, out = verify_cli(path, capsys=capsys)
    assert code == 1
    assert "line 1: unsigned" in out and "ok   line 2: signature holds" in out
    assert "FAIL line 3: signature does not hold" in out and "changed after" in out
