"""Reasons, compare and restore in headless Chromium: the journey of issue 12, with screenshots."""

from __future__ import annotations

import pytest

from tests.browser.test_workflow_browser import LAPTOP, create_with_workflow, sign_in

pytestmark = pytest.mark.browser


def save_with_reason(page, reason: str) -> None:
    """Fill the editor's reason field and save."""
    page.get_by_label("Reason (optional)").fill(reason)
    page.get_by_role("button", name="Save changes").click()


def test_edit_with_reasons_compare_and_restore_with_a_reason(live_server, browser, screenshot):
    from playwright.sync_api import expect

    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live_server)
        project_url = create_with_workflow(page, "Revision Journey")
        panel = page.locator("#workflow")
        expect(panel).to_contain_text("In sync")

        # Two edits, each with a reason.
        page.get_by_role("link", name="Edit steps").click()
        page.get_by_role("button", name="Remove release_readiness").click()
        expect(page.locator("[data-notice]")).to_have_text("Removed step release_readiness.")
        save_with_reason(page, "Release readiness is handled by operations")
        expect(page.locator(".flash-success")).to_have_text("Saved the workflow as revision 2.")

        page.get_by_role("link", name="Edit steps").click()
        page.get_by_role("button", name="Move product_discovery down").click()
        expect(page.locator("[data-notice]")).to_contain_text("Moved step product_discovery down")
        save_with_reason(page, "Requirements come first here")
        expect(page.locator(".flash-success")).to_have_text("Saved the workflow as revision 3.")
        history = panel.locator("ol.history")
        expect(history).to_contain_text("Reason: Requirements come first here")
        expect(history).to_contain_text("Reason: Release readiness is handled by operations")
        screenshot(page, "12-01-history-with-reasons")

        # Compare revisions 1 and 3 on the compare page.
        page.get_by_role("link", name="Compare any two revisions").click()
        # Pickers: the latest revisions with their date, author and reason.
        expect(page.get_by_label("From")).to_contain_text("Requirements come first here")
        page.get_by_label("From").select_option("1")
        page.get_by_label("To").select_option("3")
        page.get_by_role("button", name="Compare").click()
        result = page.locator("section.card").nth(1)
        expect(result).to_contain_text("From revision 1 to revision 3")
        expect(result).to_contain_text("Steps removed (1)")
        expect(result).to_contain_text("release_readiness")
        expect(result).to_contain_text("Steps moved (1)")
        screenshot(page, "12-02-compare-1-and-3")

        # Restore revision 2, with a reason, from its revision page.
        page.goto(project_url)
        revision_two = history.locator("li", has_text="revision 2").filter(
            has_text="Release readiness is handled by operations"
        )
        revision_two.get_by_role("link", name="View this revision").click()
        expect(page.get_by_role("heading", name="Revision 2", exact=True)).to_be_visible()
        restore = page.locator("#restore")
        expect(restore).to_contain_text("Steps moved (1)")  # the preview: undo the move
        screenshot(page, "12-03-revision-2-restore-preview")
        restore.get_by_label("Reason (optional)").fill("Discovery goes first after all")
        restore.get_by_role("button", name="Restore revision 2").click()
        expect(page.locator(".flash-success")).to_have_text("Restored revision 2 as revision 4.")
        newest = history.locator("li").first
        expect(newest).to_contain_text("This change restored revision 2.")
        expect(newest).to_contain_text("Reason: Discovery goes first after all")
        expect(newest).to_contain_text("revision 4")
        expect(newest).to_contain_text("alice reordered the steps: ")
        screenshot(page, "12-04-history-says-restored")
    finally:
        context.close()
