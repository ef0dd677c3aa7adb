"""Dashboard tests: Debian's headless Chromium, driven by the Python ``playwright`` package.

Playwright's own browser downloads are never used: the launch points at
``/usr/bin/chromium``.  The front-end assets are built from the npm registry
(``web/``: ``npm ci`` then ``npm run build``) when they are missing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))

from observatory_helpers import Running, running, seed, settings, xss_measurement

from netvigil.web import assets_built

REPO = Path(__file__).parents[2]
SCREENSHOTS = REPO / "out" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


@pytest.fixture(scope="session")
def built_assets() -> None:
    if not assets_built():
        npm = shutil.which("npm")
        assert npm, "npm is needed to build the dashboard assets (apt-get install npm)"
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=REPO / "web", check=True)
        subprocess.run([npm, "run", "build"], cwd=REPO / "web", check=True)
    assert assets_built()


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory: pytest.TempPathFactory, built_assets: None) -> Iterator[Running]:
    path = tmp_path_factory.mktemp("dashboard") / "netvigil.duckdb"
    seed(path, extra=(xss_measurement(),))
    with running(settings(path)) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium under Playwright's sync API, per module: that API keeps an event loop running
    in the main thread until it stops, which would break any later test calling asyncio.run."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.is_file(), "Debian's chromium is needed (apt-get install chromium)"
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(profile, executable_path=str(CHROMIUM), headless=True,
                                                        args=CHROMIUM_FLAGS, viewport={"width": 1280, "height": 900})
        yield context
        context.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A fresh tab that records console errors and any dialog (an alert() would be an XSS)."""
    tab = browser.new_page()  # type: ignore[attr-defined]
    tab.errors, tab.dialogs = [], []
    tab.on("console", lambda msg: msg.type == "error" and tab.errors.append(msg.text))
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    yield tab
    tab.close()


@pytest.fixture
def screenshot(page: object) -> Callable[[str], Path]:
    """Save what the tab shows as ``out/screenshots/NAME.png`` (gitignored), for people to look at."""
    def save(name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        return path

    return save
