"""Benchmark of blockpage fingerprint matching on synthetic HTML bodies.

Builds the real fingerprint database from the shared reference data and
generates 2,000 HTML bodies of 1-100 KB; every 100th carries real blockpage
text, taken from the loaded fingerprints at run time (never stored in the
repository).  Prints build time, throughput of ``FingerprintDB.match_http``
and its speed-up over a naive loop that runs every body pattern as a regex.
Then matches 20,000 synthetic response header sets (a Location on a third of
them; every 100th carries a real header fingerprint value) and prints header
sets per second, and matches 200 of the bodies as ``bytes`` (half of them
with windows-1251 text, so not UTF-8).  Prints figures only.

Run: ``cd /work/main && PYTHONPATH=src .venv/bin/python bench/bench_fingerprints.py``
"""

from __future__ import annotations

import random
import re
import time

from netvigil.analysis.fingerprints import REGEX_FLAGS, Fingerprint, FingerprintDB
from netvigil.store.reference_data import (
    load_censoredplanet_signatures,
    load_default_fingerprints,
    load_ooni_fingerprints,
    shared_data_dir,
)

BODIES = 2_000
NAIVE_SAMPLE = 100
BLOCKPAGE_EVERY = 100  # every 100th body carries real blockpage text
SEED = 20250527
HEADER_SETS = 20_000

_WORDS = (
    "the news of today page content article section div span class item link menu home contact "
    "about search results weather sport market video photo comment share login account privacy"
).split()
_TAGS = ("<p>{}</p>", '<div class="c">{}</div>', '<a href="/x/{}">{}</a>', "<li>{}</li>", "<span>{}</span>")


def body_fingerprints() -> list[Fingerprint]:
    data = shared_data_dir()
    ooni = load_ooni_fingerprints(
        data / "ooni-blocking-fingerprints/fingerprints_dns.csv",
        data / "ooni-blocking-fingerprints/fingerprints_http.csv",
    )
    cp = load_censoredplanet_signatures(
        data / "censoredplanet/assets-censoredplanet/blockpage_signatures.json",
        data / "censoredplanet/assets-censoredplanet/false_positive_signatures.json",
    )
    return [fp for fp in ooni + cp if fp.location == "body"]


def synthetic_bodies(rng: random.Random, blockpage_texts: list[str]) -> list[str]:
    bodies = []
    for n in range(BODIES):
        target = rng.randint(1_000, 100_000)
        parts = ["<!DOCTYPE html><html><head><title>Page</title></head><body>"]
        size = len(parts[0])
        while size < target:
            words = " ".join(rng.choices(_WORDS, k=rng.randint(3, 12)))
            part = rng.choice(_TAGS).format(words, words)
            parts.append(part)
            size += len(part)
        if n % BLOCKPAGE_EVERY == 0:
            parts.insert(rng.randrange(1, len(parts)), blockpage_texts[n // BLOCKPAGE_EVERY])
        parts.append("</body></html>")
        bodies.append("".join(parts))
    return bodies


def synthetic_headers(rng: random.Random, db_values: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Typical response headers; every 100th set carries one real fingerprinted header value."""
    sets = []
    for n in range(HEADER_SETS):
        headers = [
            ("Date", "Thu, 03 Dec 2026 12:00:00 GMT"),
            ("Content-Type", "text/html; charset=UTF-8"),
            ("Server", rng.choice(("nginx", "Apache/2.4.57 (Debian)", "cloudflare", "Microsoft-IIS/10.0"))),
            ("Set-Cookie", f"session={rng.getrandbits(64):016x}; Path=/; HttpOnly"),
            ("Cache-Control", "max-age=600"),
        ]
        if n % 3 == 0:
            path = "/".join(rng.choices(_WORDS, k=rng.randint(1, 5)))
            headers.append(("Location", f"https://www.{rng.choice(_WORDS)}.example/{path}?id={n}"))
        if n % BLOCKPAGE_EVERY == 0:
            headers.append(db_values[(n // BLOCKPAGE_EVERY) % len(db_values)])
        sets.append(headers)
    return sets


def header_values(fingerprints: list[Fingerprint]) -> list[tuple[str, str]]:
    """(header name, value) pairs that literal header fingerprints match."""
    return [
        (fp.location.removeprefix("header."), fp.pattern)
        for fp in fingerprints
        if fp.location.startswith("header.") and fp.pattern_type in ("full", "prefix", "contains")
    ]


def naive_regexes(fingerprints: list[Fingerprint]) -> list[re.Pattern[str]]:
    """Every body pattern as a regex, the way a straightforward matcher would run them."""
    compiled = []
    for fp in fingerprints:
        if fp.pattern_type == "regexp":
            compiled.append(re.compile(fp.pattern, REGEX_FLAGS))
        elif fp.pattern_type == "contains":
            compiled.append(re.compile(re.escape(fp.pattern)))
    return compiled


def main() -> None:
    started = time.perf_counter()
    db = load_default_fingerprints()
    load_seconds = time.perf_counter() - started
    fingerprints = body_fingerprints()
    started = time.perf_counter()
    FingerprintDB(fingerprints)
    compile_seconds = time.perf_counter() - started

    rng = random.Random(SEED)
    texts = [fp.pattern for fp in fingerprints if fp.pattern_type == "contains" and not fp.false_positive]
    bodies = synthetic_bodies(rng, rng.sample(texts, BODIES // BLOCKPAGE_EVERY))
    megabytes = sum(len(b) for b in bodies) / 1e6

    started = time.perf_counter()
    matched = sum(1 for body in bodies if db.match_http(body, []))
    match_seconds = time.perf_counter() - started

    sample = bodies[:NAIVE_SAMPLE]
    regexes = naive_regexes(fingerprints)
    started = time.perf_counter()
    naive_matched = sum(1 for body in sample if [rx for rx in regexes if rx.search(body)])
    naive_seconds = time.perf_counter() - started
    started = time.perf_counter()
    db_matched = sum(1 for body in sample if db.match_http(body, []))
    db_sample_seconds = time.perf_counter() - started

    print(f"fingerprints: {db.size} (version {db.version}, skipped {len(db.skipped)})")
    print(f"body patterns: {len(fingerprints)}; regexes without a literal: {db.always_run_regexes}")
    print(f"load + build DB:        {load_seconds * 1000:8.1f} ms")
    print(f"build DB (body only):   {compile_seconds * 1000:8.1f} ms")
    print(f"bodies: {len(bodies)}, {megabytes:.1f} MB, {matched} with a match")
    rate, throughput = len(bodies) / match_seconds, megabytes / match_seconds
    print(f"match_http:             {rate:8.0f} bodies/s  {throughput:6.1f} MB/s")
    print(f"naive regex loop ({NAIVE_SAMPLE}): {naive_seconds * 1000:8.1f} ms ({naive_matched} with a match)")
    print(
        f"match_http ({NAIVE_SAMPLE}):       {db_sample_seconds * 1000:8.1f} ms ({db_matched} with a match)"
    )
    print(f"speed-up over naive:    {naive_seconds / db_sample_seconds:8.1f}x")

    everything = load_ooni_fingerprints(
        shared_data_dir() / "ooni-blocking-fingerprints/fingerprints_dns.csv",
        shared_data_dir() / "ooni-blocking-fingerprints/fingerprints_http.csv",
    )
    header_sets = synthetic_headers(rng, header_values(everything))
    started = time.perf_counter()
    header_matched = sum(1 for headers in header_sets if db.match_http(None, headers))
    header_seconds = time.perf_counter() - started
    header_patterns = sum(1 for fp in everything if fp.location.startswith("header."))
    print(f"header patterns: {header_patterns}; header sets: {len(header_sets)}, {header_matched} with a match")
    print(f"match_http (headers):   {len(header_sets) / header_seconds:8.0f} header sets/s")

    legacy = "<p>Доступ к ресурсу ограничен</p>".encode("cp1251")
    byte_bodies = [body.encode() if n % 2 else legacy + body.encode() for n, body in enumerate(bodies[:200])]
    started = time.perf_counter()
    for body in byte_bodies:
        db.match_http(body, [("Content-Type", "text/html")])
    byte_seconds = time.perf_counter() - started
    byte_mb = sum(len(b) for b in byte_bodies) / 1e6
    print(f"match_http (bytes, half windows-1251): {len(byte_bodies) / byte_seconds:8.0f} bodies/s  "
          f"{byte_mb / byte_seconds:6.1f} MB/s")


if __name__ == "__main__":
    main()
