"""Synthetic web_connectivity measurements with known ground truth.

Used by ``make demo`` and the ingest benchmark, and by tests as a round trip:
whatever technique a measurement was generated with, the analysis must recover.
The generator writes what a v0.4 probe and its test helper would record for each
interference (same failure strings, same time-reversed request list), with
HTML bodies of realistic size.  Addresses come from documentation ranges
IANA's example range (93.184.214.0/23), never contacted: the data only has
to look routable to the analysis.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from netvigil.model.verdict import Technique as T

COUNTRIES = (("IR", "AS44244"), ("RU", "AS12389"), ("CN", "AS4134"), ("UG", "AS20294"),
             ("MM", "AS9988"), ("IT", "AS30722"), ("BR", "AS28573"), ("IN", "AS55836"))
# Weights of each ground-truth technique in a generated batch.
MIX: tuple[tuple[T, int], ...] = (
    (T.OK, 50), (T.DOWN, 8), (T.DNS_NXDOMAIN, 5), (T.DNS_BOGON, 5), (T.DNS_SPOOF, 3),
    (T.TCP_TIMEOUT, 5), (T.TLS_RESET, 6), (T.HTTP_RESET, 4), (T.HTTP_DIFF, 6),
    (T.HTTP_TIMEOUT, 3), (T.THROTTLING, 2),
)
_WORDS = ("news", "freedom", "press", "report", "election", "rights", "society", "network",
          "archive", "journal", "voices", "health", "culture", "science", "market", "forum")
BLOCKPAGE = ("<html><head><title>Access restricted</title></head><body><h1>Access to this "
             "website is restricted</h1><p>By order of the regulator this resource is not "
             "available.</p></body></html>")


@dataclass(frozen=True, slots=True)
class Generated:
    measurement: dict[str, Any]
    technique: T


DEFAULT_START = datetime(2026, 10, 1, tzinfo=UTC)
SPREAD = timedelta(days=28)  # measurements are spread evenly over four weeks from ``start``


def generate(n: int, *, seed: int = 0, min_body: int = 1_000, max_body: int = 100_000,
             start: datetime = DEFAULT_START) -> Iterator[Generated]:
    rng = random.Random(seed)
    techniques, weights = zip(*MIX)
    step = SPREAD / max(n, 1)
    for i in range(n):
        technique = rng.choices(techniques, weights)[0]
        when = (start + step * i).strftime("%Y-%m-%d %H:%M:%S")
        yield Generated(_measurement(rng, i, technique, min_body, max_body, when), technique)


def _page(rng: random.Random, size: int, title: str) -> str:
    words = []
    total = 0
    while total < size:
        word = rng.choice(_WORDS)
        words.append(word)
        total += len(word) + 1
    return f"<html><head><title>{title}</title></head><body><p>{' '.join(words)}</p></body></html>"


def _measurement(rng: random.Random, i: int, technique: T, min_body: int, max_body: int,
                 stamp: str) -> dict[str, Any]:
    cc, asn = rng.choice(COUNTRIES)
    domain = f"www.{rng.choice(_WORDS)}{i % 997}.example"
    if technique in (T.HTTP_DIFF, T.HTTP_RESET, T.HTTP_TIMEOUT):
        scheme = "http"
    elif technique is T.TLS_RESET:
        scheme = "https"
    else:
        scheme = "http" if rng.random() < 0.3 else "https"
    port = 443 if scheme == "https" else 80
    url = f"{scheme}://{domain}/"
    ip = f"93.184.215.{1 + i % 250}"
    title = f"{rng.choice(_WORDS).title()} {rng.choice(_WORDS).title()} Daily"
    body = _page(rng, rng.randint(min_body, max_body), title)
    keys = _keys(technique, url=url, domain=domain, ip=ip, port=port, body=body, title=title)
    return {
        "annotations": {"engine_name": "netvigil-synthetic", "platform": "linux"},
        "data_format_version": "0.2.0",
        "input": url,
        "measurement_start_time": stamp,
        "test_start_time": stamp,
        "probe_asn": asn,
        "probe_cc": cc,
        "probe_ip": "127.0.0.1",
        "report_id": f"20261001T000000Z_webconnectivity_{cc}_{asn[2:]}_n1_synthetic{i:08d}",
        "resolver_asn": asn,
        "resolver_ip": "93.184.214.53",
        "software_name": "netvigil-synthetic",
        "software_version": "0.1.0",
        "test_name": "web_connectivity",
        "test_version": "0.4.3",
        "test_runtime": round(rng.uniform(0.3, 12.0), 3),
        "test_keys": keys,
    }


def _keys(t: T, *, url: str, domain: str, ip: str, port: int, body: str, title: str) -> dict[str, Any]:
    endpoint = f"{ip}:{port}"
    answers = [ip]
    dns_failure = None
    tcp_failure = None
    tls_failure = None
    http: dict[str, Any] = {"failure": None, "code": 200, "body": body}
    ctrl_ok = t is not T.DOWN
    if t is T.DNS_NXDOMAIN:
        answers, dns_failure = [], "dns_nxdomain_error"
    elif t is T.DNS_BOGON:
        answers = ["10.10.34.35"]
    elif t is T.DNS_SPOOF:
        answers = ["93.184.214.66"]  # a blockpage server: plain HTTP works, its certificate does not
        http = {"failure": None, "code": 200, "body": BLOCKPAGE}
        tls_failure = "ssl_invalid_hostname"
    elif t in (T.TCP_TIMEOUT, T.DOWN):
        tcp_failure = "generic_timeout_error"
    elif t is T.TLS_RESET:
        tls_failure = "connection_reset"
    elif t is T.HTTP_RESET:
        http = {"failure": "connection_reset", "code": None, "body": None}
    elif t is T.HTTP_TIMEOUT:
        http = {"failure": "generic_timeout_error", "code": None, "body": None}
    elif t is T.THROTTLING:
        http = {"failure": "generic_timeout_error", "code": 200, "body": body[:2048]}
    elif t is T.HTTP_DIFF:
        http = {"failure": None, "code": 200, "body": BLOCKPAGE}
    https = url.startswith("https")
    if not answers:
        http = {"failure": dns_failure, "code": None, "body": None}
    elif tcp_failure:
        http = {"failure": tcp_failure, "code": None, "body": None}
    elif https and tls_failure:
        http = {"failure": tls_failure, "code": None, "body": None}
    return {
        "queries": [_query(domain, answers, dns_failure)],
        "tcp_connect": [_tcp(a, port, tcp_failure) for a in answers],
        "tls_handshakes": [_tls(a, port, domain, tls_failure) for a in answers] if https and not tcp_failure else [],
        "requests": [_request(url, http)],
        "network_events": [],
        "control_failure": None,
        "control": _control(domain, ip, endpoint, https, ctrl_ok, len(body), title),
        "x_status": 0,
    }


def _query(domain: str, answers: list[str], failure: str | None) -> dict[str, Any]:
    return {"answers": [{"answer_type": "A", "ipv4": a, "ttl": None} for a in answers],
            "engine": "system", "failure": failure, "hostname": domain, "query_type": "A",
            "resolver_address": "", "t": 0.05}


def _tcp(ip: str, port: int, failure: str | None) -> dict[str, Any]:
    return {"ip": ip, "port": port, "status": {"failure": failure, "success": failure is None}, "t": 0.1}


def _tls(ip: str, port: int, domain: str, failure: str | None) -> dict[str, Any]:
    return {"address": f"{ip}:{port}", "server_name": domain, "failure": failure, "no_tls_verify": False,
            "tls_version": None if failure else "TLSv1.3", "t": 0.2}


def _request(url: str, http: dict[str, Any]) -> dict[str, Any]:
    response = {"body": http["body"], "code": http["code"] or 0, "headers": {"Content-Type": "text/html"},
                "body_is_truncated": False}
    if http["code"] is None:
        response = {"body": None, "code": 0, "headers": {}}
    return {"failure": http["failure"], "request": {"url": url, "method": "GET", "headers": {}, "body": ""},
            "response": response, "t": 0.5}


def _control(domain: str, ip: str, endpoint: str, https: bool, ok: bool, length: int, title: str) -> dict:
    step = {"status": ok, "failure": None if ok else "generic_timeout_error"}
    control = {
        "dns": {"failure": None, "addrs": [ip]},
        "tcp_connect": {endpoint: step},
        "http_request": {"body_length": length if ok else -1, "failure": None if ok else "generic_timeout_error",
                         "title": title if ok else "", "headers": {"Content-Type": "text/html"},
                         "status_code": 200 if ok else -1},
    }
    if https:
        control["tls_handshake"] = {endpoint: {"server_name": domain, **step}}
    return control


def write_jsonl(path: str, n: int, *, seed: int = 0, start: datetime = DEFAULT_START) -> int:
    """Write n generated measurements as JSONL (gzip when the name ends in .gz)."""
    import gzip

    import orjson

    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as out:
        for g in generate(n, seed=seed, start=start):
            out.write(orjson.dumps(g.measurement) + b"\n")
    return n


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m netvigil.testbed.synthetic",
                                     description="Write synthetic web_connectivity measurements with known ground truth.")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", required=True)
    parser.add_argument("--start", type=_utc_date, default=DEFAULT_START,
                        help="first day, YYYY-MM-DD (UTC); measurements span four weeks from it")
    args = parser.parse_args(argv)
    write_jsonl(args.output, args.count, seed=args.seed, start=args.start)
    print(f"wrote {args.count} synthetic measurements to {args.output}")
    return 0


def _utc_date(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)


if __name__ == "__main__":
    raise SystemExit(main())
