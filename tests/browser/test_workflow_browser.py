"""A user's journey through the workflow pages in headless Chromium, with screenshots."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import USERNAME
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}
# Down on product_discovery, in the words every page uses for it (combine_app/workflows/move_words).
SWAP = "product_discovery and requirements_definition swapped places (positions 1 and 2)"


def sign_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/projects")


def create_with_workflow(page, name: str) -> str:
    """From the project list: create project ``name`` and assign it Software Product
    Development (its active version); the project page's URL."""
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url(re.compile(r"/projects/[A-Z]+-\d+$"))
    project_url = page.url
    page.get_by_text("Software Product Development", exact=True).last.click()
    page.get_by_role("button", name="Assign workflow").click()
    return project_url


def test_assign_edit_drift_history_and_complete(live_server, browser, screenshot):
    from playwright.sync_api import expect

    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(10_000)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        sign_in(page, live_server)
        page.get_by_label("Name").fill("Software Product Development")
        page.get_by_role("button", name="Create project").click()
        page.wait_for_url(f"{live_server}/projects/SPD-001")

        # No workflow yet: the picker, grouped by class, active versions preselected.
        panel = page.locator("#workflow")
        expect(panel).to_contain_text("No workflow assigned")
        expect(panel.locator("legend")).to_have_text(["Reference", "Template"])
        expect(page.get_by_label("Version").first).to_have_value("1.1.0")
        screenshot(page, "01-no-workflow-picker")

        page.get_by_text("Software Product Development", exact=True).last.click()
        page.get_by_role("button", name="Assign workflow").click()
        expect(panel).to_contain_text("In sync")
        expect(panel.locator(".step-title")).to_have_count(9)
        expect(panel.locator(".step-title").first).to_have_text("Product Discovery")
        expect(panel).to_contain_text(
            "alice created the workflow from software_product_development 1.1.0 (reference)"
        )
        screenshot(page, "02-assigned-in-sync")

        # Edit: the step controls work in place (no reload); Save writes one change.
        page.get_by_role("link", name="Edit steps").click()
        page.wait_for_url("**/workflow/edit")
        expect(page.get_by_role("heading", name="Edit workflow")).to_be_visible()
        page.set_viewport_size(PHONE)
        screenshot(page, "03-editor-phone-390")
        page.set_viewport_size(LAPTOP)

        # A broken step_id is refused on Save, the message next to the step that caused it.
        first = page.locator("#s-0")
        first.get_by_text("Fields of product_discovery").click()
        first.get_by_label("Step ID", exact=True).fill("Product Discovery")
        page.get_by_role("button", name="Save changes").click()
        expect(first).to_have_class(re.compile(r"\bhas-error\b"))
        expect(first.locator(".step-errors")).to_contain_text("must start with a lowercase letter")
        expect(page.locator("#editor-errors")).to_contain_text("Step 1 Product Discovery")
        screenshot(page, "04-editor-validation-error")
        # Start over throws the working copy away: it asks first.
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("link", name="Start over").click()
        expect(page.locator(".step-errors")).to_have_count(0)

        page.evaluate("window.__sameDocument = true")
        page.locator("#s-4").get_by_text("Fields of per_epic").click()
        page.get_by_role("button", name="Move product_discovery down").click()
        expect(page.locator("[data-notice]")).to_have_text(
            f"Moved step product_discovery down: {SWAP}."
        )
        # Keyboard users keep their place: the focus follows the moved step.
        expect(page.locator("#down-1")).to_be_focused()
        page.get_by_role("button", name="Remove release_readiness").click()
        expect(page.locator("[data-notice]")).to_have_text("Removed step release_readiness.")
        pending = page.locator(".pending")
        expect(pending).to_contain_text("You removed step release_readiness")
        expect(pending).to_contain_text(f"You reordered the steps: {SWAP}")
        assert page.evaluate("window.__sameDocument") is True, "the editor reloaded the page"
        # The fields a user had open stay open across the in-place updates.
        expect(page.locator("#s-4 > details.edit-fields")).to_have_attribute("open", "")
        screenshot(page, "05-editor-unsaved-changes")

        page.get_by_role("button", name="Save changes").click()
        page.wait_for_url(f"{live_server}/projects/SPD-001#workflow")
        expect(page.locator(".flash-success")).to_have_text("Saved the workflow as revision 2.")
        expect(panel.locator(".badges")).to_contain_text("Drifted")
        expect(panel.locator(".badges")).not_to_contain_text("In sync")
        expect(panel).to_contain_text("alice removed step release_readiness")
        expect(panel).to_contain_text(f"alice reordered the steps: {SWAP}")
        screenshot(page, "06-drifted-with-history")

        # The drift summary is fetched only when it is expanded.
        assert not [url for url in requests if "/workflow/drift" in url]
        drift = panel.locator("details.drift")
        expect(drift).not_to_contain_text("Steps removed")
        drift.locator("summary").click()
        expect(drift).to_contain_text("Steps removed (1)")
        expect(drift).to_contain_text("release_readiness")
        expect(drift).to_contain_text("Steps moved (1)")
        expect(drift).to_contain_text("requirements_definition")
        assert [url for url in requests if "/workflow/drift?partial=1" in url]
        screenshot(page, "07-drift-summary-expanded")
        page.set_viewport_size(PHONE)
        screenshot(page, "08-project-page-phone-390")
        page.set_viewport_size(LAPTOP)

        # Mark completed, after ticking the confirmation.
        page.get_by_text("Mark completed…").click()
        page.get_by_label("Yes, mark it completed").check()
        page.get_by_role("button", name="Mark completed", exact=True).click()
        expect(page.locator(".flash-success")).to_have_text("The workflow is marked completed.")
        expect(panel.locator(".badge-completed")).to_have_text("Workflow completed")
        expect(panel).to_contain_text("alice marked the workflow completed")
        expect(page.get_by_role("link", name="Edit steps")).to_have_count(0)
        screenshot(page, "09-completed")
    finally:
        context.close()
