"""No edit is lost without a warning: typed edits are listed as they are made, and Cancel or
leaving the editor with unsaved changes asks first (a confirm, the beforeunload dialog)."""

from __future__ import annotations

import pytest

from tests.browser.test_workflow_browser import LAPTOP, create_with_workflow, sign_in

pytestmark = pytest.mark.browser


def test_typed_edit_is_listed_and_leaving_asks_first(live_server, browser, screenshot):
    from playwright.sync_api import expect

    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(10_000)
    dialogs: list[tuple[str, str]] = []
    answer = {"accept": False}

    def on_dialog(dialog):
        dialogs.append((dialog.type, dialog.message))
        dialog.accept() if answer["accept"] else dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        sign_in(page, live_server)
        create_with_workflow(page, "Unsaved Edits")
        page.get_by_role("link", name="Edit steps").click()
        editor_url = f"{live_server}/projects/UE-001/workflow/edit"
        page.wait_for_url(editor_url)

        # Nothing unsaved: leaving does not ask.
        pending = page.locator(".pending")
        expect(pending).to_contain_text("None yet.")

        # A typed edit is listed at once, before any control sends it.
        first = page.locator("#s-0")
        first.locator(":scope > details.edit-fields > summary").click()
        role = first.locator('input[name="f:0:role"]')
        role.click()
        role.press("End")
        role.press_sequentially(" (lead)")
        expect(pending).to_contain_text(
            "You changed role of step product_discovery: "
            "'Product Manager 1.0' → 'Product Manager 1.0 (lead)'"
        )
        expect(pending.get_by_text("None yet.")).to_be_hidden()
        screenshot(page, "20-editor-typed-edit-listed")

        # Cancel asks first; answering no keeps the page and the edit.
        page.locator("a[data-discard]", has_text="Cancel").click()
        assert dialogs[-1] == ("confirm", "Leave the editor? Your unsaved changes will be lost.")
        assert page.url == editor_url
        expect(role).to_have_value("Product Manager 1.0 (lead)")

        # Leaving by any other link asks too (the browser's beforeunload dialog).
        page.locator(".crumbs a").first.click()
        page.wait_for_timeout(300)
        assert dialogs[-1][0] == "beforeunload", dialogs
        assert page.url == editor_url
        expect(role).to_have_value("Product Manager 1.0 (lead)")

        # Undoing the typing leaves nothing unsaved: leaving no longer asks.
        role.fill("Product Manager 1.0")
        expect(pending).to_contain_text("None yet.")
        asked = len(dialogs)
        page.locator(".crumbs a").first.click()
        page.wait_for_url(f"{live_server}/projects")
        assert len(dialogs) == asked

        # A change already in the working copy (a move) counts too; accepting leaves.
        page.goto(editor_url)
        page.get_by_role("button", name="Move product_discovery down").click()
        expect(page.locator("[data-notice]")).to_contain_text("swapped places")
        answer["accept"] = True
        page.locator(".crumbs a").first.click()
        page.wait_for_url(f"{live_server}/projects")
        assert dialogs[-1][0] == "beforeunload", dialogs
    finally:
        context.close()
