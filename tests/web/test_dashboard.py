"""What a person sees on each dashboard page, in a real browser, and that measured text never runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from observatory_helpers import XSS, XSS_HOST, Running


def _open(page: object, server: Running, path: str, ready: str | None = None) -> None:
    page.goto(server.url + path)  # type: ignore[attr-defined]
    if ready:
        page.wait_for_selector(f"{ready}[data-ready]", timeout=15_000)  # type: ignore[attr-defined]


def _assert_nothing_ran(page: object) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"  # type: ignore[attr-defined]
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.errors == []  # type: ignore[attr-defined]


def test_world_map_colours_countries_and_lists_them(page: object, dashboard: Running,
        screenshot: Callable[[str], Path]) -> None:
    _open(page, dashboard, "/?at=2026-10-16", "#world-map")
    assert int(page.get_attribute("#world-map", "data-ready")) >= 8
    assert page.locator("#world-map canvas").count() >= 1
    iran = page.locator("#country-table tr[data-cc='IR']")
    assert "outage" in iran.inner_text()
    assert page.locator("#charts-missing").count() == 0
    screenshot("world")
    _assert_nothing_ran(page)


def test_country_page_shows_timeline_blocked_domains_and_incidents(page: object, dashboard: Running,
        screenshot: Callable[[str], Path]) -> None:
    _open(page, dashboard, "/country/IR", "#timeline")
    assert page.inner_text("h1").startswith("Iran")
    assert int(page.get_attribute("#timeline", "data-ready")) > 10  # days with IR measurements
    domains = page.inner_text("#blocked-domains")
    assert XSS_HOST in domains  # the payload domain is listed as text
    assert "dns.bogon" in domains
    assert "critical" in page.inner_text("table.incidents")
    screenshot("country-IR")
    _assert_nothing_ran(page)


def test_measurement_page_shows_evidence_beside_control_and_the_blockpage_as_text(
        page: object, dashboard: Running,
        screenshot: Callable[[str], Path]) -> None:
    _open(page, dashboard, "/country/IR", "#timeline")
    row = page.locator("#blocked-domains tr", has_text=XSS_HOST)
    row.locator("a").click()
    page.wait_for_selector("#summary")
    assert "BLOCKED" in page.inner_text("#summary") and "http.diff" in page.inner_text("#summary")
    assert len(page.inner_text("#sha256")) == 64
    assert XSS in page.inner_text("#probe-body")
    assert XSS in page.inner_text("#probe-title")
    assert XSS in page.inner_text("#probe-headers")
    assert XSS_HOST in page.inner_text("#input")
    assert "control" in page.inner_text("#comparison")
    assert page.locator("img").count() == 0 and page.locator("main script, main svg, main iframe").count() == 0
    screenshot("measurement-xss")
    _assert_nothing_ran(page)


def test_incident_page_draws_the_signal_with_the_outage_shaded(page: object, dashboard: Running,
        screenshot: Callable[[str], Path]) -> None:
    _open(page, dashboard, "/country/IR", "#timeline")
    page.locator("table.incidents a").first.click()
    page.wait_for_selector("#signal-chart[data-ready]", timeout=15_000)
    assert page.get_attribute("#signal-chart", "data-ready") == "1"
    summary = page.inner_text("#incident-summary")
    assert "Critical incident from 2026-10-14T09:00:00Z to 2026-10-17T21:00:00Z" in summary
    screenshot("incident-IR")
    _assert_nothing_ran(page)


def test_unknown_measurement_gets_a_readable_404_page(page: object, dashboard: Running,
        screenshot: Callable[[str], Path]) -> None:
    response = page.goto(dashboard.url + "/measurement/%3Cimg%20src%3Dx%20onerror%3Dwindow.__xss%3D4%3E")
    assert response.status == 404
    assert "<img src=x onerror=window.__xss=4>" in page.inner_text("main")
    assert page.evaluate("typeof window.__xss") == "undefined"  # type: ignore[attr-defined]
    assert page.dialogs == []  # type: ignore[attr-defined]
