"""The help page in Chromium: reachable from the top bar, signed in or not (and, like every
page the browser tests visit, free of axe-core violations)."""

from __future__ import annotations

import pytest

from tests.browser.test_workflow_browser import LAPTOP, sign_in

pytestmark = pytest.mark.browser


def test_the_help_page_from_the_top_bar_signed_out_and_in(live_server, browser, screenshot):
    from playwright.sync_api import expect

    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_server}/login")
        page.get_by_role("link", name="Help").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("What do these words mean?")
        sign_in(page, live_server)
        page.get_by_role("link", name="Help").click()
        expect(page.locator("#unexplained")).to_be_visible()
        screenshot(page, "19-help-page")
    finally:
        context.close()
