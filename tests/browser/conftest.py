"""Browser fixtures: Debian's Chromium (never a downloaded one) and the app on a loopback port."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest
from werkzeug.serving import make_server

from combine_app.auth import service as auth_service
from combine_app.extensions import db
from tests.browser.accessibility import axe_source, watch_accessibility
from tests.conftest import PASSWORD, REPO_ROOT, make_app

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
USERNAME = "alice"
# Colleagues a journey may add to alice's projects (same password).
COLLEAGUES = ("bob", "carol")


def chromium_executable() -> str | None:
    """Debian's chromium: /usr/bin/chromium, else `chromium` on PATH."""
    if DEBIAN_CHROMIUM.is_file():
        return str(DEBIAN_CHROMIUM)
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The browser to drive; skips (or, with COMBINE_REQUIRE_BROWSER=1, fails) without one."""
    path = chromium_executable()
    if path is None:
        if os.environ.get("COMBINE_REQUIRE_BROWSER") == "1":
            pytest.fail(
                "COMBINE_REQUIRE_BROWSER=1 but Chromium was not found at /usr/bin/chromium or "
                "on PATH; install Debian's chromium (make browser)."
            )
        pytest.skip(
            "Chromium not found: browser tests skipped (install Debian's chromium: make browser)"
        )
    return path


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> Iterator[str]:
    """The app on a temporary SQLite file, migrated, with alice and her colleagues as users,
    served on 127.0.0.1."""
    database = tmp_path_factory.mktemp("browser") / "combine.sqlite3"
    app = make_app(f"sqlite:///{database}")
    with app.app_context():
        flask_migrate.upgrade()
        for username in (USERNAME, *COLLEAGUES):
            auth_service.create_user(username, PASSWORD)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def browser(chromium_path):
    """A headless Chromium, closed after the test; every page of every context it opens is
    checked with axe-core (tests/browser/accessibility.py)."""
    from playwright.sync_api import sync_playwright

    axe_source()  # skip or fail early when axe-core is not installed
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        new_context = chromium.new_context

        def new_checked_context(*args, **kwargs):
            context = new_context(*args, **kwargs)
            watch_accessibility(context)
            return context

        chromium.new_context = new_checked_context
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def screenshot():
    """Factory: save a full-page screenshot of ``page`` as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
