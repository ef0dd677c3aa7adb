"""The explorer pages in a real browser: search, domain, network, country views, legal context,
incidents, empty states, and that measured text never runs.  Three tests walk the questions a
new user asks, from the home page, as a person would click."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
from explorer_seed import IR_DNS_NETWORKS, IR_HTTP_ONLY, seed_explorer
from observatory_helpers import XSS_HOST, Running, running, settings

KIND_EVIDENCE = ["The whole country lost connectivity within ten minutes.",
                 "The onset fell on the hour, 09:00 UTC.", "BGP-visible prefixes stayed announced."]


@pytest.fixture(scope="module")
def explorer(tmp_path_factory: pytest.TempPathFactory, built_assets: None) -> Iterator[Running]:
    """The explorer's story seeded, and the IR incident assessed as detection (issue 11) stores it."""
    path = tmp_path_factory.mktemp("explorer") / "netvigil.duckdb"
    seed_explorer(path)
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE incidents ADD COLUMN IF NOT EXISTS kind VARCHAR")
    con.execute("ALTER TABLE incidents ADD COLUMN IF NOT EXISTS kind_evidence VARCHAR[]")
    con.execute("UPDATE incidents SET kind = 'government_shutdown', kind_evidence = ?", [KIND_EVIDENCE])
    con.close()
    with running(settings(path)) as server:
        yield server


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory, built_assets: None) -> Iterator[Running]:
    with running(settings(tmp_path_factory.mktemp("empty") / "netvigil.duckdb")) as server:
        yield server


def _assert_nothing_ran(page: object) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"  # type: ignore[attr-defined]
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.errors == []  # type: ignore[attr-defined]


def _pixels(page: object, selector: str, rgb: tuple[int, int, int]) -> int:
    """How many pixels of a chart's canvas have this colour: proof that something was drawn in it."""
    return page.evaluate(  # type: ignore[attr-defined]
        """([selector, rgb]) => {
            const canvas = document.querySelector(`${selector} canvas`);
            const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            let found = 0;
            for (let i = 0; i < pixels.length; i += 4) {
              if (Math.abs(pixels[i] - rgb[0]) < 4 && Math.abs(pixels[i + 1] - rgb[1]) < 4
                  && Math.abs(pixels[i + 2] - rgb[2]) < 4) found += 1;
            }
            return found;
        }""", [selector, list(rgb)])


def _rows(page: object, selector: str) -> list[list[str]]:
    return page.eval_on_selector_all(  # type: ignore[attr-defined]
        f"{selector} tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")


# --- the three questions --------------------------------------------------------------------

def test_question_is_twitter_blocked_in_uganda_and_since_when(page: object, explorer: Running,
        screenshot: Callable[[str], Path]) -> None:
    page.goto(explorer.url + "/")  # type: ignore[attr-defined]
    page.click("header nav >> text=Search")  # type: ignore[attr-defined]
    page.fill("input[name=domain]", "twitter.com")  # type: ignore[attr-defined]
    page.fill("input[name=probe_cc]", "UG")  # type: ignore[attr-defined]
    page.click("#search-form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("#results")  # type: ignore[attr-defined]
    page.locator("#results td.domain a").first.click()  # type: ignore[attr-defined]
    page.wait_for_selector("#domain-answer")  # type: ignore[attr-defined]
    answer = page.inner_text("#domain-answer")  # type: ignore[attr-defined]
    assert "Uganda since 2026-10-05" in answer and "2 networks" in answer
    uganda = next(r for r in _rows(page, "#domain-countries") if r[0] == "Uganda")
    assert uganda[1] == "blocked" and uganda[2] == "2026-10-05 08:00:00"
    assert "dns.nxdomain" in uganda[4] and "tls.reset" in uganda[4]
    page.wait_for_selector("#domain-timeline[data-ready]", timeout=15_000)  # type: ignore[attr-defined]
    screenshot("question-twitter-uganda")
    _assert_nothing_ran(page)


def test_question_which_networks_in_iran_block_by_dns(page: object, explorer: Running,
        screenshot: Callable[[str], Path]) -> None:
    page.goto(explorer.url + "/?at=2026-10-16")  # type: ignore[attr-defined]
    page.click("#country-table tr[data-cc='IR'] a")  # type: ignore[attr-defined]
    page.wait_for_selector("#country-networks")  # type: ignore[attr-defined]
    header = page.eval_on_selector_all("#country-networks thead th", "cells => cells.map(c => c.innerText)")  # type: ignore[attr-defined]
    dns = header.index("Blocks by DNS")
    by_dns = {r[0]: r[dns] for r in _rows(page, "#country-networks")}
    for asn in IR_DNS_NETWORKS:
        assert by_dns[asn] == "yes"
    assert by_dns[IR_HTTP_ONLY] == "—"
    page.locator("#country-networks").scroll_into_view_if_needed()  # type: ignore[attr-defined]
    screenshot("question-iran-dns-networks")
    _assert_nothing_ran(page)


def test_question_did_iran_vote_for_the_2019_resolution(treaty_context: Path, page: object, explorer: Running,
        screenshot: Callable[[str], Path]) -> None:
    page.goto(explorer.url + "/?at=2026-10-16")  # type: ignore[attr-defined]
    iran = page.locator("#country-table tr[data-cc='IR']")  # type: ignore[attr-defined]
    assert iran.locator("td.vote").inner_text() == "yes"
    iran.locator("a").click()
    vote = page.inner_text("#legal-vote")  # type: ignore[attr-defined]
    assert "A/RES/74/247" in vote and "voted yes (in favour)" in vote and "UNV" in vote
    assert "not a party" in page.inner_text("#legal-budapest")  # type: ignore[attr-defined]
    assert "signed" in page.inner_text("#legal-un2024")  # type: ignore[attr-defined]
    page.locator("#legal-context").scroll_into_view_if_needed()  # type: ignore[attr-defined]
    screenshot("question-iran-vote")
    _assert_nothing_ran(page)


# --- each page ------------------------------------------------------------------------------

def test_world_map_switches_to_the_2019_vote_beside_the_censorship_state(treaty_context: Path, page: object, explorer: Running,
        screenshot: Callable[[str], Path]) -> None:
    page.goto(explorer.url + "/?at=2026-10-16")  # type: ignore[attr-defined]
    page.wait_for_selector("#world-map[data-ready]", timeout=15_000)  # type: ignore[attr-defined]
    assert page.get_attribute("#world-map", "data-mode") == "state"  # type: ignore[attr-defined]
    # The legend swatch alone has ~280 pixels of its colour; Iran drawn adds ~500 more.
    outage, voted_yes = (0x6A, 0x1B, 0x9A), (0xD8, 0x43, 0x15)
    assert _pixels(page, "#world-map", outage) > 500 and _pixels(page, "#world-map", voted_yes) == 0
    page.click("#map-modes button[data-mode=vote]")  # type: ignore[attr-defined]
    page.wait_for_selector("#world-map[data-mode=vote]", timeout=15_000)  # type: ignore[attr-defined]
    assert _pixels(page, "#world-map", voted_yes) > 5_000  # Russia, China, India, Iran... drawn in the "yes" colour
    assert int(page.get_attribute("#world-map", "data-shown")) >= 190  # type: ignore[attr-defined]
    assert page.get_attribute("#map-modes button[data-mode=vote]", "aria-pressed") == "true"  # type: ignore[attr-defined]
    screenshot("world-vote")
    page.click("#map-modes button[data-mode=state]")  # type: ignore[attr-defined]
    page.wait_for_selector("#world-map[data-mode=state]")  # type: ignore[attr-defined]
    _assert_nothing_ran(page)


def test_country_chart_switches_between_counts_share_and_technique_mix(page: object, explorer: Running,
        screenshot: Callable[[str], Path]) -> None:
    page.goto(explorer.url + "/country/UG")  # type: ignore[attr-defined]
    page.wait_for_selector("#timeline[data-ready]", timeout=15_000)  # type: ignore[attr-defined]
    for mode in ("share", "techniques", "counts"):
        page.click(f"#timeline-modes button[data-mode={mode}]")  # type: ignore[attr-defined]
        page.wait_for_selector(f"#timeline[data-mode={mode}]")  # type: ignore[attr-defined]
        assert page.get_attribute(f"#timeline-modes button[data-mode={mode}]", "aria-pressed") == "true"  # type: ignore[attr-defined]
        if mode == "techniques":
            screenshot("country-UG-techniques")
    assert "Uganda" in page.inner_text("h1")  # type: ignore[attr-defined]
    assert "unknown" in page.inner_text("#legal-un2024")  # type: ignore[attr-defined]  # the data says so
    _assert_nothing_ran(page)


def test_search_sorts_pages_and_downloads_the_same_query(page: object, explorer: Running,
        screenshot: Callable[[str], Path]) -> None:
    page.goto(explorer.url + "/search?probe_cc=UG&domain=twitter.com&outcome=blocked")  # type: ignore[attr-defined]
    assert "40" in page.inner_text("#search-total")  # type: ignore[attr-defined]
    page.click("#results thead a:text('Time (UTC)')")  # type: ignore[attr-defined]
    page.wait_for_url("**order=asc**")  # type: ignore[attr-defined]
    assert "probe_cc=UG" in page.url and "domain=twitter.com" in page.url  # type: ignore[attr-defined]
    assert _rows(page, "#results")[0][0] == "2026-10-05 08:00:00"
    screenshot("search-UG-twitter")
    csv = page.request.get(explorer.url + page.get_attribute("#download-csv", "href"))  # type: ignore[attr-defined]
    lines = csv.text().strip().splitlines()
    assert len(lines) == 41 and lines[1].split(",")[1] == "2026-10-05 08:00:00"
    data = page.request.get(explorer.url + page.get_attribute("#download-json", "href")).json()  # type: ignore[attr-defined]
    assert data["count"] == 40 and {r["outcome"] for r in data["results"]} == {"blocked"}
    page.goto(explorer.url + "/search")  # type: ignore[attr-defined]
    first = _rows(page, "#results")
    page.click("#next-page")  # type: ignore[attr-defined]
    page.wait_for_url("**offset=50**")  # type: ignore[attr-defined]
    assert _rows(page, "#results")[0] != first[0] and "51" in page.inner_text("#search-total")  # type: ignore[attr-defined]
    _assert_nothing_ran(page)


def test_network_page_lists_what_it_blocks_and_the_unknown_country_is_named_so(page: object, explorer: Running,
        screenshot: Callable[[str], Path]) -> None:
    page.goto(explorer.url + f"/network/{IR_DNS_NETWORKS[0]}")  # type: ignore[attr-defined]
    page.wait_for_selector("#network-timeline[data-ready]", timeout=15_000)  # type: ignore[attr-defined]
    assert "dns.bogon" in page.inner_text("#network-techniques")  # type: ignore[attr-defined]
    assert "instagram.com" in page.inner_text("#network-domains")  # type: ignore[attr-defined]
    screenshot(f"network-{IR_DNS_NETWORKS[0]}")
    page.goto(explorer.url + "/search?domain=twitter.com&probe_cc=ZZ")  # type: ignore[attr-defined]
    assert _rows(page, "#results")[0][1] == "unknown country"
    page.goto(explorer.url + "/country/ZZ")  # type: ignore[attr-defined]
    assert page.inner_text("h1").startswith("unknown country")  # type: ignore[attr-defined]
    _assert_nothing_ran(page)


def test_incident_page_puts_every_signal_on_one_axis_with_onset_end_and_kind(page: object, explorer: Running,
        screenshot: Callable[[str], Path]) -> None:
    page.goto(explorer.url + "/country/IR")  # type: ignore[attr-defined]
    page.locator("table.incidents a").first.click()  # type: ignore[attr-defined]
    page.wait_for_selector("#signal-chart[data-ready]", timeout=15_000)  # type: ignore[attr-defined]
    assert page.get_attribute("#signal-chart", "data-ready") == "1"  # type: ignore[attr-defined]
    window = explorer.client.get(f"/api/v1/incidents/{page.url.rsplit('/', 1)[1]}").json()["window"]  # type: ignore[attr-defined]
    hours = explorer.client.get("/api/v1/countries/IR/hourly",
                                params={"since": window["from"], "until": window["to"]}).json()["results"]
    assert hours and page.get_attribute("#signal-chart", "data-measured") == str(len(hours))  # type: ignore[attr-defined]
    assert page.inner_text("#onset") == "2026-10-14T09:00:00Z"  # type: ignore[attr-defined]
    assert page.inner_text("#end") == "2026-10-17T21:00:00Z"  # type: ignore[attr-defined]
    assert page.inner_text("#kind") == "government shutdown"  # type: ignore[attr-defined]
    assert page.inner_text("#kind-evidence").splitlines() == KIND_EVIDENCE  # type: ignore[attr-defined]
    assert "4200" not in page.inner_text("main") and "96%" in page.inner_text("#incident-summary")  # type: ignore[attr-defined]
    screenshot("incident-IR-assessed")
    _assert_nothing_ran(page)


def test_incident_without_an_assessment_says_not_assessed(page: object, dashboard: Running) -> None:
    page.goto(dashboard.url + "/country/IR")  # type: ignore[attr-defined]
    page.locator("table.incidents a").first.click()  # type: ignore[attr-defined]
    page.wait_for_selector("#signal-chart[data-ready]", timeout=15_000)  # type: ignore[attr-defined]
    assert page.inner_text("#kind") == "not assessed"  # type: ignore[attr-defined]
    assert page.inner_text("#kind-evidence").startswith("Not assessed")  # type: ignore[attr-defined]
    _assert_nothing_ran(page)


# --- empty states ---------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "expected", "name"), [
    ("/search", "No measurement is held yet.", "empty-search"),
    ("/search?domain=nothing.example", "No measurement matches this search.", "empty-search-filtered"),
    ("/domain/nothing.example", "no probe has measured this domain", "empty-domain"),
    ("/network/AS64500", "No measurement from this network is held.", "empty-network"),
    ("/country/NO", "No blocked domain in the data held.", "empty-country-NO"),
])
def test_empty_states_say_what_is_missing(page: object, empty: Running, screenshot: Callable[[str], Path],
                                          path: str, expected: str, name: str,
                                          request: pytest.FixtureRequest) -> None:
    response = page.goto(empty.url + path)  # type: ignore[attr-defined]
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert expected in page.inner_text("main")  # type: ignore[attr-defined]
    if path == "/country/NO":
        request.getfixturevalue("treaty_context")  # the vote below comes from the shared data
        page.wait_for_selector("#timeline[data-ready]", timeout=15_000)  # type: ignore[attr-defined]
        assert "voted no (against)" in page.inner_text("#legal-vote")  # type: ignore[attr-defined]
        assert "nothing to chart" in page.inner_text("#timeline")  # type: ignore[attr-defined]
    screenshot(name)
    _assert_nothing_ran(page)


# --- hostile text ---------------------------------------------------------------------------

def test_search_reflects_hostile_query_values_as_text_only(page: object, explorer: Running,
        screenshot: Callable[[str], Path]) -> None:
    hostile = '"><img src=x onerror=window.__xss=5><script>window.__xss=6</script>'
    page.goto(explorer.url + "/search", wait_until="load")  # type: ignore[attr-defined]
    page.fill("input[name=url]", hostile)  # type: ignore[attr-defined]
    page.fill("input[name=domain]", hostile)  # type: ignore[attr-defined]
    page.click("#search-form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector(".problem")  # type: ignore[attr-defined]
    assert page.input_value("input[name=url]") == hostile  # type: ignore[attr-defined]
    assert hostile in page.inner_text(".problem")  # type: ignore[attr-defined]
    page.fill("input[name=url]", "http://<svg")  # type: ignore[attr-defined]
    page.fill("input[name=domain]", "")  # type: ignore[attr-defined]
    page.click("#search-form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("#results")  # type: ignore[attr-defined]
    assert XSS_HOST in page.inner_text("#results")  # type: ignore[attr-defined]
    assert page.locator("main img, main script, main svg, main iframe").count() == 0  # type: ignore[attr-defined]
    screenshot("search-xss")
    _assert_nothing_ran(page)


def test_network_and_country_pages_show_a_hostile_domain_as_text(page: object, explorer: Running) -> None:
    for path in ("/network/AS44244", "/country/IR"):
        page.goto(explorer.url + path)  # type: ignore[attr-defined]
        assert XSS_HOST in page.inner_text("main")  # type: ignore[attr-defined]
        assert page.locator("main img, main script, main iframe").count() == 0  # type: ignore[attr-defined]
        _assert_nothing_ran(page)
