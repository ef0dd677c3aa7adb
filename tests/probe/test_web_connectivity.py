"""measure() end to end on loopback: origin, censoring resolver, SOCKS5 relay and our helper."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import orjson
import pytest
from probe_servers import (
    http_response,
    page,
    port_of,
    refused_port,
    routes,
    serve_bytes,
    server_context,
    start_dns,
    start_socks5,
    start_tcp,
)

from netvigil.engine import pipeline
from netvigil.analysis import observations
from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.analysis.web import analyze_measurement
from netvigil.model.measurement import measurement_from_dict
from netvigil.probe.config import ProbeConfig
from netvigil.probe.envelope import TEST_VERSION
from netvigil.probe.helper_server import start_helper
from netvigil.probe.web_connectivity import measure
from netvigil.store.db import open_store
from netvigil.store.sources import iter_records

ORIGIN_IP = "127.0.0.10"
ENVELOPE = {"annotations", "data_format_version", "extensions", "input", "measurement_start_time", "probe_asn",
            "probe_cc", "probe_ip", "probe_network_name", "report_id", "resolver_asn", "resolver_ip",
            "resolver_network_name", "software_name", "software_version", "test_helpers", "test_keys",
            "test_name", "test_runtime", "test_start_time", "test_version"}


@pytest.fixture
def loopback_is_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """Our origins live on 127.0.0.0/8, standing in for public addresses: without this the
    analysis rightly calls an answer of 127.0.0.10 a bogon (the testbed faces the same)."""
    real = observations.is_bogon
    monkeypatch.setattr(observations, "is_bogon", lambda a: False if a.startswith("127.") else real(a))


class Lab:
    """Origin(s), a censored and a clean resolver, a SOCKS5 relay and our helper, on loopback."""

    def __init__(self, stack: AsyncExitStack) -> None:
        self.stack = stack

    async def origin(self, handler, *, ssl_context=None):
        server = await start_tcp(handler, host=ORIGIN_IP, ssl_context=ssl_context)
        self.stack.callback(server.close)
        return port_of(server)

    async def setup(self, censored: dict, clean: dict, behaviour: dict | None = None, *, ca_file=None,
                    helper: bool = True, socks: bool = True, **overrides) -> ProbeConfig:
        dns_censored = await start_dns(censored, behaviour)
        dns_clean = await start_dns(clean)
        self.stack.callback(dns_censored.transport.close)
        self.stack.callback(dns_clean.transport.close)
        test_helper = None
        if helper:
            th = await start_helper(host="127.0.0.1", port=0, resolver=dns_clean.address, ca_file=ca_file,
                                    allow_private_targets=True)
            self.stack.push_async_callback(th.close)
            test_helper = th.url
        socks5 = None
        if socks:
            proxy = await start_socks5()
            self.stack.callback(proxy.close)
            socks5 = f"127.0.0.1:{port_of(proxy)}"
        settings = {"resolver": dns_censored.address, "use_system_resolver": False, "socks5": socks5, "ca_file": ca_file,
                        "test_helper": test_helper, "connect_timeout": 1.0, "tls_timeout": 1.0, "http_timeout": 2.0,
                        "dns_timeout": 0.5}
        settings.update(overrides)
        return ProbeConfig(**settings)


def run_lab(scenario):
    async def main():
        async with AsyncExitStack() as stack:
            return await scenario(Lab(stack))

    return asyncio.run(main())


def analyze(m: dict):
    return analyze_measurement(measurement_from_dict(m), FingerprintDB.empty())


def _export(store, tmp_path) -> list[bytes]:
    store.export_jsonl(tmp_path / "out.jsonl")
    return (tmp_path / "out.jsonl").read_bytes().splitlines()


def test_ok_https_site_through_socks(loopback_is_public, test_ca, ca_file, cert_dir, tmp_path) -> None:
    async def scenario(lab: Lab):
        context = server_context(test_ca, ["site.example"], cert_dir)
        port = await lab.origin(serve_bytes(http_response(page("Independent News Today"))), ssl_context=context)
        records = {"site.example": [ORIGIN_IP]}
        config = await lab.setup(records, records, ca_file=ca_file)
        return await measure(f"https://site.example:{port}/", config)

    m = run_lab(scenario)
    assert set(m) == ENVELOPE and m["test_version"] == TEST_VERSION and m["probe_ip"] == "127.0.0.1"
    tk = m["test_keys"]
    assert tk["control_failure"] is None and tk["control"]["http_request"]["status_code"] == 200
    assert tk["tls_handshakes"][0]["failure"] is None and tk["tls_handshakes"][0]["peer_certificates"]
    assert tk["requests"][0]["response"]["code"] == 200
    assert tk["tcp_connect"][0]["tags"] == ["classic", "depth=0", "fetch_body=true"]
    assert {e["operation"] for e in tk["network_events"]} >= {"connect", "read", "write"}
    assert analyze(m).summary.outcome.value == "ok"
    assert_ingests(m, tmp_path)


def assert_ingests(m: dict, tmp_path) -> None:
    """Our measurement goes through ``netvigil ingest`` unchanged: stored, not quarantined."""
    path = tmp_path / "probe.jsonl"
    path.write_bytes(orjson.dumps(m) + b"\n")
    with open_store(tmp_path / "store.duckdb") as store:
        summary = pipeline.ingest(store, iter_records([str(path)]), FingerprintDB.empty())
        assert (summary.stored, summary.quarantined) == (1, 0), summary.by_reason
        [exported] = [orjson.loads(x) for x in _export(store, tmp_path)]
    assert exported == m


def test_ok_http_site_without_socks(loopback_is_public) -> None:
    async def scenario(lab: Lab):
        port = await lab.origin(serve_bytes(http_response(page("Plain Old Website"))))
        records = {"site.example": [ORIGIN_IP]}
        return await measure(f"http://site.example:{port}/", await lab.setup(records, records, socks=False))

    m = run_lab(scenario)
    assert analyze(m).summary.outcome.value == "ok"


def test_nxdomain_from_censored_resolver_is_dns_blocking(loopback_is_public) -> None:
    async def scenario(lab: Lab):
        port = await lab.origin(serve_bytes(http_response(page("Opposition Party"))))
        config = await lab.setup({"blocked.example": [ORIGIN_IP]}, {"blocked.example": [ORIGIN_IP]},
                                 {"blocked.example": "nxdomain"})
        return await measure(f"http://blocked.example:{port}/", config)

    m = run_lab(scenario)
    tk = m["test_keys"]
    assert tk["dns_experiment_failure"] == "dns_nxdomain_error" and tk["requests"] == []
    assert tk["control"]["dns"]["addrs"] == [ORIGIN_IP]
    summary = analyze(m).summary
    assert (summary.outcome.value, summary.technique.value) == ("blocked", "dns.nxdomain")


def test_redirect_loop_stops_after_ten() -> None:
    def respond(path: str, headers: dict) -> bytes:
        n = int(path.strip("/") or 0)
        return http_response(b"", status="302 Found", headers=(f"Location: /{n + 1}",))

    async def scenario(lab: Lab):
        port = await lab.origin(routes(respond))
        records = {"loop.example": [ORIGIN_IP]}
        return await measure(f"http://loop.example:{port}/", await lab.setup(records, records, helper=False))

    tk = run_lab(scenario)["test_keys"]
    assert len(tk["requests"]) == 11
    assert tk["requests"][0]["failure"] == "unknown_failure: stopped after too many redirects"
    assert "depth=10" in tk["requests"][0]["tags"] and "depth=0" in tk["requests"][-1]["tags"]
    assert tk["requests"][1]["request"]["headers"]["Referer"].endswith("/8")
    assert tk["http_experiment_failure"] == "unknown_failure: stopped after too many redirects"
    assert sum(1 for q in tk["queries"] if q["query_type"] == "A") == 11  # every hop resolves again


def test_broken_location_and_cookies() -> None:
    def respond(path: str, headers: dict) -> bytes:
        if path == "/":
            return http_response(b"", status="302 Found", headers=("Set-Cookie: consent=yes; Path=/",
                                                                   "Location: /check"))
        if path == "/check" and headers.get("cookie") == "consent=yes":
            return http_response(b"", status="302 Found", headers=("Location: http://",))
        return http_response(b"no cookie", status="403 Forbidden")

    async def scenario(lab: Lab):
        port = await lab.origin(routes(respond))
        records = {"site.example": [ORIGIN_IP]}
        return await measure(f"http://site.example:{port}/", await lab.setup(records, records, helper=False))

    tk = run_lab(scenario)["test_keys"]
    assert [r["response"]["code"] for r in tk["requests"]] == [302, 302]
    assert tk["requests"][0]["failure"] == "http_invalid_redirect_location_host"
    assert tk["requests"][0]["request"]["headers"]["Cookie"] == "consent=yes"


@pytest.mark.parametrize(("url", "failure"), [
    ("ftp://site.example/", "unknown_failure: unsupported scheme 'ftp'"),
    ("http://", "unknown_failure: the URL has no host"),
    ("http://site.example:99999/", "unknown_failure: invalid URL: Port out of range 0-65535"),
])
def test_unmeasurable_urls_are_recorded(url: str, failure: str) -> None:
    m = asyncio.run(measure(url, ProbeConfig(resolver="udp://127.0.0.1:9", use_system_resolver=False)))
    assert m["test_keys"]["http_experiment_failure"] == failure and m["input"] == url
    measurement_from_dict(m)


def test_public_ip_is_scrubbed_everywhere() -> None:
    echo = "81.2.69.160"  # a global address (documentation ranges are not scrubbed: not public)
    body = f"<title>Your IP</title>Your address is {echo}; not 203.0.113.7".encode()

    async def scenario(lab: Lab):
        port = await lab.origin(serve_bytes(http_response(body, headers=(f"X-Client-Ip: {echo}",))))
        records = {"site.example": [ORIGIN_IP]}
        config = await lab.setup(records, records, helper=False, probe_ip=echo)
        return await measure(f"http://site.example:{port}/", config)

    text = str(run_lab(scenario))
    assert echo not in text and "Your address is [scrubbed]; not 203.0.113.7" in text
    assert "X-Client-Ip" in text


def test_control_failures_are_recorded() -> None:
    async def scenario(lab: Lab):
        port = await lab.origin(serve_bytes(http_response(page("Site"))))
        not_json = await lab.origin(serve_bytes(http_response(b"<html>not json</html>")))
        records = {"site.example": [ORIGIN_IP]}
        refused = await lab.setup(records, records, helper=False, test_helper=f"http://127.0.0.1:{refused_port()}")
        garbled = await lab.setup(records, records, helper=False, test_helper=f"http://{ORIGIN_IP}:{not_json}")
        url = f"http://site.example:{port}/"
        return await measure(url, refused), await measure(url, garbled)

    refused, garbled = run_lab(scenario)
    assert refused["test_keys"]["control_failure"] == "connection_refused"
    assert garbled["test_keys"]["control_failure"] == "json_parse_error"
    assert refused["test_keys"]["x_control_request"]["tcp_connect"] == [f"{ORIGIN_IP}:{refused['input'].split(':')[2][:-1]}"]
