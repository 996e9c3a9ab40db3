"""The API reference page renders the generated document in headless Chromium."""

from __future__ import annotations

import pytest

from tests.browser.test_workflow_browser import LAPTOP, sign_in

pytestmark = pytest.mark.browser


def test_reference_page_lists_the_operations_from_local_assets(live_server, browser, screenshot):
    from playwright.sync_api import expect

    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        sign_in(page, live_server)
        page.goto(f"{live_server}/api-reference/")
        expect(page.locator(".info .title")).to_contain_text("Combine API")
        expect(
            page.locator(".opblock-summary-path", has_text="/api/v1/projects").first
        ).to_be_visible()
        page.locator(
            ".opblock-summary", has_text="/api/v1/projects/{project_id}/workflow/drift"
        ).first.click()
        body = page.locator(".opblock-body").first
        expect(body).to_contain_text("The drift, computed now.")
        expect(body).to_contain_text("steps_moved")
        screenshot(page, "api-reference")
        assert requests and all(url.startswith(live_server) for url in requests), requests
    finally:
        context.close()
