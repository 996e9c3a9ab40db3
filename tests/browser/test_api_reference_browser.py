"""The API reference page in headless Chromium: reached from the top bar, every operation of the
served document on it, nothing fetched from elsewhere (axe checks it like every page)."""

from __future__ import annotations

import pytest

from tests.browser.test_workflow_browser import LAPTOP, sign_in

pytestmark = pytest.mark.browser


def test_reference_page_lists_the_operations_from_local_files(live_server, browser, screenshot):
    from playwright.sync_api import expect

    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        sign_in(page, live_server)
        top_bar = page.get_by_role("navigation", name="Main")
        top_bar.get_by_role("link", name="API reference").click()
        page.wait_for_url(f"{live_server}/api-reference/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Combine API reference")
        document = page.request.get(f"{live_server}/api/v1/openapi.json").json()
        for path, item in document["paths"].items():
            for method, operation in item.items():
                if method == "parameters":
                    continue
                section = page.locator(f'section.operation[id="{operation["operationId"]}"]')
                expect(section.get_by_role("heading", level=3)).to_have_text(
                    f"{method.upper()} {path}"
                )
        drift = page.locator("section#getDrift")
        page.get_by_role("link", name="GET /api/v1/projects/{project_id}/workflow/drift").click()
        expect(drift).to_be_in_viewport()
        expect(drift).to_contain_text("The drift, computed now.")
        drift.get_by_role("link", name="DriftResponse").first.click()
        schema = page.locator("section#schema-DriftResponse")
        expect(schema).to_be_in_viewport()
        expect(schema).to_contain_text("steps_moved")
        screenshot(page, "api-reference")
        assert requests and all(url.startswith(live_server) for url in requests), requests
    finally:
        context.close()
