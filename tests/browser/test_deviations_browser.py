"""Accepting a deviation in headless Chromium: the badge follows, a later edit re-flags it."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_workflow_browser import LAPTOP, create_with_workflow, sign_in

pytestmark = pytest.mark.browser


def edit_first_role(page, value: str) -> None:
    """Open the editor, set product_discovery's role, save, and land on the project page."""
    page.get_by_role("link", name="Edit steps").click()
    page.wait_for_url("**/workflow/edit")
    first = page.locator("#s-0")
    first.get_by_text("Fields of product_discovery").click()
    first.get_by_label("Role", exact=True).fill(value)
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(re.compile(r"/projects/[A-Z]+-\d+#workflow$"))


def test_accept_a_difference_with_a_reason_then_change_it_again(live_server, browser, screenshot):
    from playwright.sync_api import expect

    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live_server)
        project_url = create_with_workflow(page, "Deviation Journey")
        panel = page.locator("#workflow")
        badges = panel.locator(".badges")
        expect(badges).to_contain_text("In sync")

        edit_first_role(page, "Our Product Lead")
        expect(badges).to_contain_text("Drifted (1 unexplained)")

        # The summary, opened in the panel, offers "Accept…" with a reason field.
        drift = panel.locator("details.drift")
        drift.locator("summary").click()
        expect(drift).to_contain_text("Not explained yet (1)")
        expect(drift).to_contain_text("Changed in this project (1)")
        drift.get_by_text("Accept as intended…").click()
        drift.get_by_label("Why is this difference intended?").fill(
            "This team has a product lead, not a product manager."
        )
        screenshot(page, "deviations-01-accept-with-reason")
        drift.get_by_role("button", name="Accept", exact=True).click()
        page.wait_for_url("**/workflow/drift")
        expect(page.locator(".flash-success")).to_have_text(
            "Accepted: the difference is explained, with your reason."
        )
        accepted = page.locator("details.drift-accepted")
        expect(accepted.locator("summary")).to_have_text("Accepted on purpose (1)")
        accepted.locator("summary").click()
        expect(accepted).to_contain_text(
            "“This team has a product lead, not a product manager.” — accepted by alice"
        )
        expect(accepted.get_by_role("button", name="Withdraw")).to_be_visible()
        screenshot(page, "deviations-02-accepted")

        page.goto(project_url)
        expect(badges).to_contain_text("Deviations accepted")
        expect(badges).not_to_contain_text("Drifted")
        page.goto(f"{live_server}/projects")
        expect(page.locator("table.list")).to_contain_text("Deviations accepted")

        # The same step changed again: unexplained once more, with the old acceptance shown.
        page.goto(project_url)
        edit_first_role(page, "Our Product Lead and Owner")
        expect(badges).to_contain_text("Drifted (1 unexplained)")
        page.goto(f"{project_url}/workflow/drift")
        expect(page.locator(".changed-since")).to_contain_text(
            "Accepted earlier, but changed since: “This team has a product lead, not a product "
            "manager.”"
        )
        expect(page.locator("details.drift-accepted")).to_have_count(0)
        screenshot(page, "deviations-03-changed-since")
    finally:
        context.close()
