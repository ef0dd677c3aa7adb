"""Namespace mode's plans, without root: the layout, the packet rules, the shaping, the PKI hand-over.

These are pure functions of a scenario, so they are checked here on every
machine; the namespace tests then show that the kernel does what they say.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from testbed_helpers import scenario_from

from netvigil.testbed.addressing import AddressPlan, Ports
from netvigil.testbed.netns.layout import CENSOR_SERVICES, RESOLVER, Layout
from netvigil.testbed.netns.rules import diversions, iptables_document, tc_batch
from netvigil.testbed.pki import TestbedPKI
from netvigil.testbed.scenarios.scenario import Scenario

SCENARIO = """
[clients.city]
region = "city"
time = 2021-04-01T12:00:00Z
[clients.valley]
region = "valley"
time = 2021-04-01T12:00:00Z
[sites."news.example"]
expect = "ok"
[sites."www.wiki.example"]
expect = "tls.reset"
[sites."hole.example"]
expect = "tcp.timeout"
[sites."page.example"]
url = "http://page.example/"
expect = "http.blockpage"
[sites."mitm.example"]
expect = "tls.mitm"
[sites."video.example"]
large_file = 100000
expect = "throttling"
[hosts.blockpage]
address = "10.10.34.35"
page = "p"
[pages.p]
status = 451
[[tcp]]
domain = "hole.example"
action = "blackhole"
[[tcp]]
ip = "10.10.34.35"
action = "refuse"
[[tls]]
sni = "wiki.example"
action = "reset"
[[tls]]
sni = "mitm.example"
action = "intercept"
[[http]]
host = "page.example"
action = "blockpage"
page = "p"
[[http]]
host = "page.example"
action = "timeout"
[[throttle]]
sni = "video.example"
rate = "64 KiB/s"
[[throttle]]
domain = "video.example"
rate = "16 KiB/s"
[[shutdown]]
start = 2021-04-01T00:00:00Z
end = 2021-04-02T00:00:00Z
regions = ["valley"]
"""


def _setup() -> tuple[Scenario, AddressPlan, Layout]:
    scenario = scenario_from(SCENARIO)
    plan = AddressPlan(scenario)
    return scenario, plan, Layout.for_scenario(scenario, plan, prefix="nv-1-0")


def test_the_layout_names_namespaces_uniquely_and_routes_fixed_hosts() -> None:
    scenario, plan, layout = _setup()
    assert layout.namespaces == ("nv-1-0-censor", "nv-1-0-net", "nv-1-0-c0", "nv-1-0-c1")
    assert [(c.interface, c.address, c.gateway) for c in layout.clients] == [
        ("c0", "10.201.0.2", "10.201.0.1"), ("c1", "10.201.1.2", "10.201.1.1")]
    assert layout.extra_routes == ("10.10.34.35",)
    assert plan.of("news.example").advertised in layout.hosted
    other = Layout.for_scenario(scenario, plan)
    assert other.prefix != Layout.for_scenario(scenario, plan).prefix


def test_a_host_inside_the_testbeds_own_ranges_is_refused() -> None:
    scenario = scenario_from('[sites."a.example"]\nexpect = "ok"\n[hosts.x]\naddress = "10.200.0.2"\n')
    with pytest.raises(ValueError, match="10.200.0.2 is in 10.200.0.0/16"):
        Layout.for_scenario(scenario, AddressPlan(scenario))


def _document() -> tuple[list[str], AddressPlan]:
    scenario, plan, layout = _setup()
    text = iptables_document(scenario, plan, layout, {"city": 5301, "valley": 5302},
                             {"tls-1": 8443, "http-0": 8080})
    return text.splitlines(), plan


def test_censor_rules_follow_the_scenario_in_order() -> None:
    lines, plan = _document()
    censor = [line for line in lines if line.startswith("-A CENSOR")]
    assert censor[0] == "-A CENSOR -i c1 -j DROP"  # the shutdown covers the valley only
    hole = plan.of("hole.example").advertised
    assert censor[1] == f"-A CENSOR -p tcp -m conntrack --ctorigdst {hole} -j DROP"
    assert censor[2] == "-A CENSOR -p tcp -m conntrack --ctorigdst 10.10.34.35 -j REJECT --reject-with tcp-reset"
    assert censor[3] == "-A CENSOR -m conntrack --ctstate DNAT -j RETURN"  # diverted: the responder's
    assert '--hex-string "|00000c|wiki.example" -j REJECT --reject-with tcp-reset' in censor[4]
    assert '--hex-string ".wiki.example"' in censor[5]  # subdomains: www.wiki.example
    assert all("--ctorigdstport 80" in line and "--icase" in line and line.endswith("-j DROP")
               for line in censor[6:])
    assert '"Host: page.example|0d0a|"' in censor[6]
    assert len(censor) == 9
    assert "-A FORWARD -i c0 -j CENSOR" in lines and "-A INPUT -i c1 -j CENSOR" in lines


def test_dns_is_hijacked_and_answering_rules_are_diverted() -> None:
    lines, plan = _document()
    nat = [line for line in lines if line.startswith("-A PREROUTING")]
    for interface, port in (("c0", 5301), ("c1", 5302)):
        for proto in ("udp", "tcp"):
            assert (f"-A PREROUTING -i {interface} -d {RESOLVER} -p {proto} --dport 53 "
                    f"-j DNAT --to-destination {CENSOR_SERVICES}:{port}") in nat
    mitm, page = plan.of("mitm.example").advertised, plan.of("page.example").advertised
    assert (f"-A PREROUTING -i c0 -d {mitm} -p tcp --dport 443 "
            f"-j DNAT --to-destination {CENSOR_SERVICES}:8443") in nat
    assert f"-A PREROUTING -i c1 -d {page} -p tcp --dport 80 -j DNAT --to-destination {CENSOR_SERVICES}:8080" in nat
    assert len(nat) == 4 + 2 + 2
    assert lines[-1] == "COMMIT"


def test_diversions_are_keyed_the_same_way_on_both_sides() -> None:
    scenario, plan, _ = _setup()
    found = {d.key: (d.addresses, d.port) for d in diversions(scenario, plan)}
    assert found == {"tls-1": ((plan.of("mitm.example").advertised,), 443),
                     "http-0": ((plan.of("page.example").advertised,), 80)}


def test_throttling_takes_the_slowest_cap_first() -> None:
    scenario, plan, _ = _setup()
    lines = tc_batch(scenario, plan, "c0")
    video = plan.of("video.example").advertised
    assert lines[0] == "qdisc add dev c0 root handle 1: htb default 1"
    tbfs = [line for line in lines if " tbf " in line]
    assert [line.split(" rate ")[1].split()[0] for line in tbfs] == [f"{16 * 1024 * 8}bit", f"{64 * 1024 * 8}bit"]
    filters = [line for line in lines if line.startswith("filter")]
    assert filters == [f"filter add dev c0 parent 1: protocol ip prio 10 u32 match ip src {video}/32 flowid 1:10",
                       f"filter add dev c0 parent 1: protocol ip prio 11 u32 match ip src {video}/32 flowid 1:11"]
    assert tc_batch(scenario_from('[sites."a.example"]\nexpect = "ok"\n'), plan, "c0") == []


def test_default_ports_stay_out_of_urls() -> None:
    assert Ports(80, 443).url("https://www.new.example/path?q=1") == "https://www.new.example/path?q=1"
    assert Ports(80, 443).url("http://a.example/") == "http://a.example/"
    assert Ports(8080, 8443).url("https://a.example/") == "https://a.example:8443/"


def test_another_process_signs_with_the_same_authorities(tmp_path: Path) -> None:
    pki = TestbedPKI(tmp_path)
    pki.save()
    assert oct((tmp_path / "authority-trusted.key").stat().st_mode & 0o777) == "0o600"
    scratch = tmp_path / "origins"
    scratch.mkdir()
    again = TestbedPKI.load(tmp_path, scratch)
    assert again.ca_file == pki.ca_file
    context = again.server_context("a.example")
    assert isinstance(context, ssl.SSLContext)
    assert list(scratch.glob("*.crt")), "certificates go to the role's own folder"
    client = ssl.create_default_context(cafile=str(pki.ca_file))
    assert client.cert_store_stats()["x509_ca"] == 1
