"""At 1280 px: the project list keeps keys and dates on one line, and the workflow panel's
buttons stay one row, also with a confirmation opened."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_deviation_requests_browser import signed_in

pytestmark = pytest.mark.browser


def test_keys_dates_and_the_button_row_do_not_wrap_at_1280(live_server, browser, screenshot):
    page = signed_in(browser, live_server, "alice")
    try:
        page.get_by_label("Name").fill("Checkout Platform Migration Programme")
        page.locator("#workflow").select_option(index=1)
        page.get_by_role("button", name="Create project").click()
        page.wait_for_url(re.compile(r"/projects/[A-Z]+-\d+$"))
        project_url = page.url
        page.goto(f"{live_server}/projects")
        for cell in (page.locator("td.key-cell a").first, page.locator("table.list time").first):
            box = cell.bounding_box()
            line = float(cell.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
            assert box["height"] < 1.5 * line, (cell, box)
        page.goto(project_url)
        buttons = page.locator(".panel-actions > a.button, .panel-actions summary.button")
        assert buttons.count() == 3
        tops = {round(buttons.nth(i).bounding_box()["y"]) for i in range(3)}
        assert len(tops) == 1, tops  # one row
        page.get_by_text("Mark completed…").click()
        assert {round(buttons.nth(i).bounding_box()["y"]) for i in range(3)} == tops
        screenshot(page, "layout-1280-confirm-open")
    finally:
        page.context.close()
