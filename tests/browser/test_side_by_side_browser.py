"""The side-by-side view in headless Chromium, from the drift summary, at 1280 and 390 px."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_workflow_browser import LAPTOP, PHONE, SWAP, create_with_workflow, sign_in

pytestmark = pytest.mark.browser


def test_side_by_side_with_the_source_on_a_laptop_and_a_phone(live_server, browser, screenshot):
    from playwright.sync_api import expect

    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live_server)
        create_with_workflow(page, "Side By Side")
        page.get_by_role("link", name="Edit steps").click()
        page.get_by_role("button", name="Move product_discovery down").click()
        expect(page.locator("[data-notice]")).to_contain_text(SWAP)
        page.get_by_role("button", name="Remove release_readiness").click()
        expect(page.locator("[data-notice]")).to_have_text("Removed step release_readiness.")
        page.get_by_role("button", name="Save changes").click()
        expect(page.locator(".flash-success")).to_have_text("Saved the workflow as revision 2.")

        drift = page.locator("#workflow details.drift")
        drift.locator("summary").click()
        drift.get_by_role("link", name="Side by side with the source").click()
        page.wait_for_url(re.compile(r".*/workflow/side-by-side\?from=source&to=current$"))
        table = page.locator("table.sbs")
        expect(table.locator("thead")).to_contain_text("From: the source")
        expect(table.locator("thead")).to_contain_text("To: the current revision (2)")
        # The moved step shows twice, where it was and where it is; the removed one where it was.
        expect(table.locator("tr.row-moved")).to_have_count(2)
        expect(table.locator("tr.row-moved").first).to_contain_text(SWAP)
        expect(table.locator("tr.row-removed")).to_have_count(1)
        expect(table.locator("tr.row-removed")).to_contain_text("release_readiness")
        expect(table.locator("tr.depth-2")).to_have_count(3)  # per_epic's nested steps
        screenshot(page, "19-side-by-side-1280")

        # On a phone the columns stack within each row, each side labelled, nothing cut off.
        page.set_viewport_size(PHONE)
        removed = table.locator("tr.row-removed")
        expect(removed.locator(".sbs-label").first).to_be_visible()
        expect(removed.locator(".sbs-label").first).to_have_text("From")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "19-side-by-side-phone-390")
    finally:
        context.close()
