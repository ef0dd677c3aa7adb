"""Scenario files: what is accepted, and how a bad one is refused (where and why)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from netvigil.model.verdict import Technique
from netvigil.testbed.scenarios.library import find_scenario, library_paths
from netvigil.testbed.scenarios.scenario import Client, DnsAction, Match, Shutdown, domain_matches
from netvigil.testbed.scenarios.load import ScenarioError, load_scenario, parse_scenario

BASE = """\
[scenario]
name = "t"
description = "test"
country = "IR"

[sites."news.example"]
expect = "ok"
"""

# (case, text appended to BASE or replacing it when it starts with "!", words of the message,
#  text of the line the message must name, or None when no line applies)
BAD = [
    ("not TOML", "[sites.x\n", "not valid TOML", None),
    ("no [scenario]", '![sites."a.example"]\nexpect = "ok"\n', "the [scenario] section", None),
    ("missing description", '![scenario]\nname = "t"\n[sites."a.example"]\nexpect = "ok"\n',
     'in [scenario]: the key "description" is missing', "[scenario]"),
    ("bad country", None, 'key "country": expected a two-letter country code', 'country = "Iran"'),
    ("no sites", '![scenario]\nname = "t"\ndescription = "d"\n', "at least one [sites.", None),
    ("site without expect", '[sites."b.example"]\ntitle = "B"\n', 'the key "expect" is missing',
     '[sites."b.example"]'),
    ("unknown technique", '[sites."b.example"]\nexpect = "dns.nxdomian"\n',
     '[sites."b.example"]: key "expect": \'dns.nxdomian\' is not a technique', 'expect = "dns.nxdomian"'),
    ("expect for an unknown client", '[sites."b.example"]\nexpect = { tehran = "ok" }\n',
     "there is no client 'tehran'", "expect = { tehran"),
    ("expect misses a client", '[clients.a]\n[clients.b]\n[sites."b.example"]\nexpect = { a = "ok" }\n',
     "no verdict for client(s) b", None),
    ("unknown key", '[sites."b.example"]\nexpect = "ok"\ntitel = "B"\n', 'key "titel": unknown key',
     'titel = "B"'),
    ("wrong type", '[sites."b.example"]\nexpect = "ok"\ndown = "yes"\n',
     'key "down": expected true or false, found "yes"', 'down = "yes"'),
    ("url of another domain", '[sites."b.example"]\nexpect = "ok"\nurl = "https://c.example/"\n',
     "must be an http:// or https:// URL of b.example", 'url = "https://c.example/"'),
    ("url with a port", '[sites."b.example"]\nexpect = "ok"\nurl = "https://b.example:8443/"\n',
     "without a port", "url = "),
    ("upper-case domain", '[sites."B.Example"]\nexpect = "ok"\n', "is not a lower-case domain name",
     '[sites."B.Example"]'),
    ("misspelt action", '[[dns]]\ndomain = "news.example"\naction = "nxdomain"\n'
                        '[[dns]]\ndomain = "news.example"\naction = "nxdomian"\n',
     'in the 2nd [[dns]] rule: key "action": "nxdomian" is not one of nxdomain, timeout, forge, inject',
     'action = "nxdomian"'),
    ("forge without answer", '[[dns]]\ndomain = "news.example"\naction = "forge"\n', 'forge needs "answer"',
     "[[dns]]"),
    ("forge to an unknown host", '[[dns]]\ndomain = "news.example"\naction = "forge"\nanswer = "nowhere"\n',
     'no [hosts."nowhere"] section defines it', 'answer = "nowhere"'),
    ("dns rule keyed by sni", '[[dns]]\nsni = "news.example"\naction = "nxdomain"\n',
     "a [[dns]] rule cannot be keyed by sni; use domain", 'sni = "news.example"'),
    ("tcp rule on an unknown address", '[[tcp]]\nip = "192.0.2.1"\naction = "refuse"\n',
     "no host has the address 192.0.2.1", 'ip = "192.0.2.1"'),
    ("tcp rule on a domain that is no site", '[[tcp]]\ndomain = "other.example"\naction = "refuse"\n',
     "other.example is not one of the sites", 'domain = "other.example"'),
    ("blockpage without page", '[[http]]\nhost = "news.example"\naction = "blockpage"\n',
     'blockpage needs "page"', "[[http]]"),
    ("reset with a page", '[pages.p]\n[[http]]\nhost = "news.example"\naction = "reset"\npage = "p"\n',
     "reset sends no page", 'page = "p"'),
    ("routable host address", '[hosts.h]\naddress = "8.8.8.8"\n',
     "must be a non-routable, non-loopback address", 'address = "8.8.8.8"'),
    ("loopback host address", '[hosts.h]\naddress = "127.0.0.1"\n', "non-loopback", 'address = "127.0.0.1"'),
    ("host address not an IP", '[hosts.h]\naddress = "blockpage"\n', '"blockpage" is not an IP address',
     'address = "blockpage"'),
    ("host named like a site", '[hosts."news.example"]\n', '"news.example" is a site too',
     '[hosts."news.example"]'),
    ("page status out of range", '[pages.p]\nstatus = 999\n', "999 is above the maximum 599", "status = 999"),
    ("bad rate", '[[throttle]]\ndomain = "news.example"\nrate = "fast"\n',
     '"fast" is not a rate such as "64 KiB/s"', 'rate = "fast"'),
    ("naive date-time", '[clients.a]\ntime = 2019-11-17T10:00:00Z\n[[shutdown]]\n'
                        'start = 2019-11-16T14:00:00\nend = 2019-11-24T20:30:00Z\n',
     "has no offset: write it in UTC with a final Z", "start = 2019-11-16T14:00:00"),
    ("window backwards", '[clients.a]\ntime = 2019-11-17T10:00:00Z\n[[shutdown]]\n'
                         'start = 2019-11-24T20:30:00Z\nend = 2019-11-16T14:00:00Z\n',
     "the window ends before it starts", "end = 2019-11-16"),
    ("window of mixed kinds", '[clients.a]\ntime = 2019-11-17T10:00:00Z\n[[shutdown]]\n'
                              'start = 18:30:00\nend = 2019-11-16T14:00:00Z\n',
     "must both be date-times or both times of day", "end = 2019-11-16"),
    ("unknown region", '[clients.a]\nregion = "x"\ntime = 2019-11-17T10:00:00Z\n[[shutdown]]\n'
                       'start = 18:30:00\nend = 02:30:00\nregions = ["kashmir"]\n',
     "no client is in region 'kashmir'", 'regions = ["kashmir"]'),
    ("client without time", '[clients.a]\n[[shutdown]]\nstart = 18:30:00\nend = 02:30:00\n',
     'client "a" has no time', "start = 18:30:00"),
    ("redirect to a non-site", '[sites."b.example"]\nexpect = "ok"\nredirect = "https://elsewhere.example/"\n',
     "leads to a domain that is not one of the sites", 'redirect = "https://elsewhere.example/"'),
    ("delay too long", '[sites."b.example"]\nexpect = "ok"\ndelay = 60\n', "60 is above the maximum 10.0",
     "delay = 60"),
    ("unknown section", '[censor]\nkind = "dns"\n', "in [censor]: unknown key", "[censor]"),
]


def _text(addition: str | None, case: str) -> str:
    if case == "bad country":
        return BASE.replace('country = "IR"', 'country = "Iran"')
    assert addition is not None
    return addition[1:] if addition.startswith("!") else BASE + addition


@pytest.mark.parametrize(("case", "addition", "words", "line_text"), BAD, ids=[c[0] for c in BAD])
def test_a_bad_file_is_refused_with_where_and_why(case: str, addition: str | None, words: str,
                                                  line_text: str | None) -> None:
    text = _text(addition, case)
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, source="bad.toml")
    message = str(caught.value)
    assert words in message
    if line_text is not None:
        expected_line = next(i for i, line in enumerate(text.splitlines(), 1) if line_text in line)
        assert message.startswith(f"bad.toml, line {expected_line}: "), message
        assert caught.value.line == expected_line


def test_toml_syntax_errors_keep_tomllib_position() -> None:
    with pytest.raises(ScenarioError, match=r"line 2, column"):
        parse_scenario('[scenario]\nname = \n', source="x.toml")


def test_a_full_file_is_read_into_frozen_dataclasses() -> None:
    scenario = parse_scenario(BASE + """
[clients.tehran]
region = "iran"
time = 2019-11-18T12:00:00Z

[sites."b.example"]
url = "http://b.example/path?q=1"
title = "Bee"
expect = { tehran = "dns.bogon" }
delay = 0.5
large_file = 1024

[hosts.national]
address = "10.10.34.35"
page = "iran"

[pages.iran]
status = 403
title = "Blocked"
headers = { Server = "filter" }

[[dns]]
domain = ["b.example", "c.example"]
action = "forge"
answer = "national"

[[throttle]]
sni = "b.example"
rate = "2 Mbit/s"

[[shutdown]]
start = 2019-11-16T14:00:00Z
end = 2019-11-24T20:30:00Z
regions = ["iran"]
""".replace('[sites."news.example"]\nexpect = "ok"', '[sites."news.example"]\nexpect = { tehran = "ok" }'))
    site = scenario.site("b.example")
    assert site is not None and site.path == "/path?q=1" and site.scheme == "http"
    assert site.expected("tehran") is Technique.DNS_BOGON
    assert scenario.dns[0].match == Match(domains=("b.example", "c.example"))
    assert scenario.dns[0].action is DnsAction.FORGE and scenario.dns[0].answer == "national"
    assert scenario.throttle[0].bytes_per_second == 250_000
    assert scenario.page("iran").headers == (("Server", "filter"),)
    assert scenario.shutdown[0].active(scenario.clients[0])
    with pytest.raises(AttributeError):
        site.title = "changed"  # type: ignore[misc]


def test_the_default_client_and_url() -> None:
    scenario = parse_scenario(BASE)
    assert [c.name for c in scenario.clients] == ["probe"]
    assert scenario.sites[0].url == "https://news.example/"


@pytest.mark.parametrize(("at", "active"), [("17:00", False), ("18:30", True), ("23:59", True),
                                            ("00:00", True), ("02:29", True), ("02:30", False),
                                            ("12:00", False)])
def test_a_daily_window_crosses_midnight(at: str, active: bool) -> None:
    curfew = Shutdown(start=time(18, 30), end=time(2, 30))
    hour, minute = map(int, at.split(":"))
    client = Client("c", time=datetime(2021, 4, 1, hour, minute, tzinfo=UTC))
    assert curfew.active(client) is active


def test_a_regional_window_spares_other_regions() -> None:
    window = Shutdown(start=datetime(2019, 8, 4, 19, tzinfo=UTC), end=datetime(2020, 2, 27, tzinfo=UTC),
                      regions=("kashmir",))
    moment = datetime(2019, 8, 10, 12, tzinfo=UTC)
    assert window.active(Client("srinagar", "kashmir", moment))
    assert not window.active(Client("delhi", "delhi", moment))


def test_domains_match_their_subdomains_only() -> None:
    assert domain_matches("www.news.example", "news.example")
    assert domain_matches("NEWS.example.", "news.example")
    assert not domain_matches("badnews.example", "news.example")


@pytest.mark.parametrize("path", library_paths(), ids=lambda p: p.stem)
def test_every_library_file_loads_and_cites_its_source(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    opening = path.read_text(encoding="utf-8").split("[scenario]")[0]
    assert opening.startswith("#") and ("research" in opening or "§" in opening), "no source cited"
    assert all(s.domain.endswith((".example", ".test")) for s in scenario.sites)


def test_the_library_covers_the_issue() -> None:
    names = {p.stem for p in library_paths()}
    assert {"iran-2019", "russia", "china-gfw", "uganda-2021", "kashmir-2019", "iran-shutdown-2019",
            "myanmar-2021", "controls"} <= names
    expected = {t for p in library_paths() for s in load_scenario(p).sites for _, t in s.expect}
    assert {Technique.DNS_NXDOMAIN, Technique.DNS_BOGON, Technique.DNS_SPOOF, Technique.DNS_TIMEOUT,
            Technique.TCP_TIMEOUT, Technique.TCP_REFUSED, Technique.TLS_RESET, Technique.TLS_TIMEOUT,
            Technique.TLS_MITM, Technique.HTTP_RESET, Technique.HTTP_TIMEOUT, Technique.HTTP_EOF,
            Technique.HTTP_BLOCKPAGE, Technique.HTTP_DIFF, Technique.THROTTLING, Technique.DOWN,
            Technique.OK} <= expected


def test_scenarios_are_found_by_name_path_or_all(tmp_path: Path) -> None:
    assert find_scenario("controls")[0].name == "controls.toml"
    assert len(find_scenario("all")) == len(library_paths())
    own = tmp_path / "mine.toml"
    own.write_text(BASE)
    assert find_scenario(str(own)) == [own]
    with pytest.raises(FileNotFoundError, match="library: catalogue"):
        find_scenario("atlantis")
